"""Retention and compaction on a timer of their own, beside a consumer loop rather than inside it.

The embedded log applies its topics' retention and compaction (and gives the
space back) only when asked; Kafka does it itself, so there ``maintain()`` is a
no-op. :class:`Maintenance` asks every ``interval`` seconds from a daemon
thread until ``stop``; a failure is logged and tried again next time.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from sinks.log import Log, LogError

log = logging.getLogger(__name__)


class Maintenance:
    def __init__(self, log_: Log, *, interval: float, stop: threading.Event) -> None:
        self.log = log_
        self.interval = interval
        self.stop = stop
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log maintenance", daemon=True)

    def _run(self) -> None:
        while not self._done.wait(self.interval) and not self.stop.is_set():
            self.maintain()

    def maintain(self) -> dict[str, int]:
        try:
            removed = self.log.maintain()
        except LogError as error:
            log.warning("retention and compaction failed, will retry: %s", error)
            return {}
        if removed:
            log.info("retention and compaction removed %s", removed)
        return removed

    def __enter__(self) -> Maintenance:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._done.set()
        self._thread.join()
