"""Large buffers handed back when freed: glibc's malloc told once, nothing done where it cannot be."""

from __future__ import annotations

import ctypes
import sys

import pytest

from sinks import heap


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_glibc_takes_the_thresholds_and_taking_them_again_is_harmless() -> None:
    assert heap.return_large_buffers() is True
    assert heap.return_large_buffers() is True


def test_a_c_library_without_mallopt_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_libc(name: str) -> ctypes.CDLL:
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(heap.ctypes, "CDLL", no_libc)
    assert heap.return_large_buffers() is False


def test_the_threshold_is_a_size() -> None:
    with pytest.raises(ValueError, match="positive"):
        heap.return_large_buffers(0)
