"""SIGTERM and SIGINT end the loop, not the process: they set a stop event the loops check."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

log = logging.getLogger(__name__)


@contextmanager
def stop_on_signals(*, announce: bool = True) -> Iterator[threading.Event]:
    """Within the block, SIGTERM/SIGINT set the yielded event; a second signal is left to the default.

    ``announce`` logs the signal (a command that says itself how it stopped passes ``False``).
    """
    stop = threading.Event()
    previous: dict[int, object] = {}

    def handle(signum: int, frame: FrameType | None) -> None:
        if announce:
            log.warning("%s received: finishing the current batch, then stopping", signal.Signals(signum).name)
        stop.set()
        for sig in previous:
            signal.signal(sig, signal.SIG_DFL)  # a second signal ends the process at once

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, handle)
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
