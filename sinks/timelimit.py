"""``clean_page`` under a time limit: in a child process that is ended when a page takes too long.

A thread cannot be stopped in Python, and a pathological page (a regular expression that
backtracks for ever, a parser caught in a loop) must not hold a worker's partitions: so
:class:`TimedCleaner` hands each page to a child process over a pipe and waits at most
``time_limit`` seconds for the answer. When time is up the child is killed (and a new one
started for the next page) and :class:`CleanTimeout` is raised; the caller turns it into a
rejection. Children are forked from a forkserver that has imported the cleaner once, so a
new child costs milliseconds, and they die with the worker (``PR_SET_PDEATHSIG``).

A page may be sent ahead (:meth:`TimedCleaner.send_ahead`): the child cleans it while the
worker publishes the page before, and :meth:`TimedCleaner.clean` of the same page then only
waits for the answer. At most one page is with the child at a time, and its time limit runs
from when it was sent. A page sent ahead and then not asked for is waited for and dropped.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import signal
import time
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerProcess
from typing import Any

from cleaner import Article, CleanerSettings, PageHints, Rejection, warm_up
from sinks.heap import return_large_buffers

PR_SET_PDEATHSIG = 1


class CleanTimeout(Exception):
    """The page was not cleaned within the time limit."""


class CleanerDied(RuntimeError):
    """The child process ended while it cleaned (out of memory, killed)."""


Clean = Callable[..., Article | Rejection]  # clean_page's signature
Request = tuple[bytes, str, dict[str, str], PageHints | None]  # what the child is sent: one page


def _serve(conn: Connection, settings: CleanerSettings, clean: Clean) -> None:  # pragma: no cover - in the child
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the pipe's end still stops the child
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the worker's to handle
    return_large_buffers()  # a page's body and text, unpickled and pickled, leave no holes in the heap
    warm_up(settings)  # the models load before the first page's clock starts
    while True:
        try:
            body, url, headers, hints = conn.recv()
        except EOFError:
            return
        try:
            result: Any = clean(body, url=url, headers=headers, settings=settings, hints=hints)
        except BaseException as error:  # clean_page is total; anything else goes back to be reported
            result = error
        conn.send(result)


class TimedCleaner:
    """Cleans pages in a child process, at most ``time_limit`` seconds each, with ``clean``
    (:func:`~cleaner.clean_page`, or a module-level function of the same signature)."""

    def __init__(self, settings: CleanerSettings, *, time_limit: float, clean: Clean) -> None:
        self.settings = settings
        self.time_limit = time_limit
        self.clean_function = clean
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["cleaner", "cleaner.pipeline"])
        self._child: tuple[ForkServerProcess, Connection] | None = None
        self._sent: tuple[Request, float] | None = None  # the page with the child, and when it was sent
        self._start()  # at once: the worker's first page does not wait for a process and its models

    def _start(self) -> tuple[ForkServerProcess, Connection]:
        if self._child is None:
            parent, child = self._context.Pipe()
            process = self._context.Process(
                target=_serve, args=(child, self.settings, self.clean_function), name="cleaner", daemon=True
            )
            process.start()
            child.close()
            self._child = (process, parent)
        return self._child

    def send_ahead(self, body: bytes, *, url: str, headers: Mapping[str, str], hints: PageHints | None) -> None:
        """Have the child start on this page now, unless it has one already."""
        if self._sent is None:
            self._send((body, url, dict(headers), hints))

    def clean(
        self, body: bytes, *, url: str, headers: Mapping[str, str], hints: PageHints | None
    ) -> Article | Rejection:
        request: Request = (body, url, dict(headers), hints)
        if self._sent is not None and self._sent[0] != request:
            self._drop_sent()
        if self._sent is None:
            self._send(request)
        result = self._answer()
        if isinstance(result, BaseException):
            raise result
        return result  # type: ignore[no-any-return]

    def _send(self, request: Request) -> None:
        _, conn = self._start()
        try:
            conn.send(request)
        except OSError as error:
            self._stop()
            raise CleanerDied(f"the cleaner process ended before it was sent a page ({error})") from error
        self._sent = (request, time.monotonic())

    def _answer(self) -> Any:
        """The answer for the page with the child, within what is left of its time limit."""
        assert self._sent is not None and self._child is not None
        _, sent_at = self._sent
        _, conn = self._child
        try:
            if not conn.poll(max(0.0, self.time_limit - (time.monotonic() - sent_at))):
                self._stop()
                raise CleanTimeout(f"cleaning took longer than {self.time_limit:g} s")
            result = conn.recv()
        except (EOFError, OSError) as error:  # the child died (out of memory, killed): the next page gets a new one
            self._stop()
            raise CleanerDied(f"the cleaner process ended while cleaning ({error or 'no answer'})") from error
        self._sent = None
        return result

    def _drop_sent(self) -> None:
        """Wait for the page sent ahead and drop its answer (it is cleaned again when it is asked for)."""
        with contextlib.suppress(CleanTimeout, CleanerDied):
            self._answer()

    def _stop(self) -> None:
        child, self._child, self._sent = self._child, None, None
        if child is not None:
            process, conn = child
            process.kill()
            process.join()
            conn.close()

    def close(self) -> None:
        self._stop()
