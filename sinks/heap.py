"""Large buffers straight back to the system when freed, so a long-running worker's memory stays flat.

Every page a worker or its cleaner process handles brings buffers of the page's size
(the raw body read from the log or the pipe, its decoded text, the serialised article).
glibc's malloc serves a request above its mmap threshold with a mapping of its own,
unmapped when freed; but the threshold is dynamic: each such block freed raises it to
that block's size (up to 32 MiB on 64-bit). After the first large page, then, every
page's buffers come from the heap, and the holes they leave between longer-lived
allocations stay resident: the process grows by a kilobyte or two a page, for good.
Setting the thresholds once switches that adjustment off, so large buffers are mapped and
unmapped again, and free memory at the top of the heap is given back.

Only glibc has ``mallopt``; elsewhere (macOS, musl) :func:`return_large_buffers` does nothing.
"""

from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD = -1  # glibc's <malloc.h>
M_MMAP_THRESHOLD = -3
#: glibc's own default for both (fixed, no longer raised by each large block freed)
LARGE_BUFFER = 128 * 1024


def return_large_buffers(threshold: int = LARGE_BUFFER) -> bool:
    """Have malloc map each request of ``threshold`` bytes or more on its own, and trim the heap's
    free top above ``threshold``; for the whole process, from now on. ``False`` when the C library
    cannot be told (not glibc)."""
    if threshold <= 0:
        raise ValueError("threshold must be positive")
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, threshold)) and bool(mallopt(M_TRIM_THRESHOLD, threshold))
