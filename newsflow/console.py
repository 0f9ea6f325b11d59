"""What the commands show people: plain-text tables and progress on stderr.

:func:`table` aligns columns by display width, so a row of CJK text (two cells
per character in a terminal) lines up with a row of ASCII. :class:`Progress`
draws a live bar when stderr is a terminal and, in a log or CI, writes a line
only every few seconds or every tenth of the way; it never writes to stdout,
which is for data (the JSON lines of ``consume``, for one), written by :func:`print_record`.
"""

from __future__ import annotations

import logging
import select
import shutil
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import BinaryIO, TextIO

RULE = "-"
GAP = "  "


def char_width(char: str) -> int:
    """Terminal cells of one character: 2 for wide and fullwidth (CJK), 0 for combining marks, else 1."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Cf", "Mn", "Me"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    return sum(char_width(c) for c in text)


def truncate(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` terminal cells (with ``…`` when cut)."""
    if display_width(text) <= width:
        return text
    kept, used = [], 0
    for char in text:
        used += char_width(char)
        if used > width - 1:
            break
        kept.append(char)
    return "".join(kept) + "…"


def pad(text: str, width: int, align: str = "l") -> str:
    fill = " " * max(0, width - display_width(text))
    return fill + text if align == "r" else text + fill


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 site``, ``2 sites``."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def column_alignment(column: Sequence[object]) -> str:
    """Right for a column of numbers (blank cells allowed), left otherwise."""
    filled = [v for v in column if v not in (None, "")]
    return "r" if filled and all(is_number(v) for v in filled) else "l"


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    align: str | None = None,
    footer: Sequence[object] | None = None,
) -> str:
    """A plain-text table: a header, a rule, the rows and, after another rule, an optional ``footer`` (a total).

    ``align`` has one letter per column, ``l`` or ``r``; by default columns of numbers are
    right-aligned and the rest left-aligned. Floats show one decimal, ``None`` as blank.
    """
    body = [list(r) for r in rows] + ([list(footer)] if footer is not None else [])
    if any(len(r) != len(headers) for r in body):
        raise ValueError(f"every row needs {len(headers)} cells")
    aligns = align or "".join(column_alignment([r[i] for r in body]) for i in range(len(headers)))
    if len(aligns) != len(headers) or set(aligns) - {"l", "r"}:
        raise ValueError(f"align needs one of 'l' or 'r' per column, got {aligns!r}")
    texts = [list(headers), *([cell(v) for v in r] for r in body)]
    widths = [max(display_width(r[i]) for r in texts) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return GAP.join(pad(c, w, a) for c, w, a in zip(cells, widths, aligns, strict=True)).rstrip()

    rule = GAP.join(RULE * w for w in widths)
    lines = [line(texts[0]), rule, *(line(r) for r in texts[1 : len(rows) + 1])]
    if footer is not None:
        lines += [rule, line(texts[-1])]
    return "\n".join(lines)


def print_record(text: str, stream: BinaryIO | None = None) -> None:
    """One record and a newline on stdout (or ``stream``), as UTF-8, whole, and flushed.

    With ``PYTHONUNBUFFERED`` set, stdout has no buffer, and a write to a full pipe that a
    signal interrupts (Ctrl-C, with the reader behind) takes only part of the bytes; a
    ``print`` would drop the rest without a word. Here the rest is written too.
    """
    if stream is None:
        sys.stdout.flush()  # anything printed before goes first
        stream = sys.stdout.buffer
    data = memoryview((text + "\n").encode("utf-8"))
    while data:
        written = stream.write(data)
        if written is None:  # a non-blocking stdout that is full: wait until it takes more
            select.select([], [stream], [])
            continue
        data = data[written:]
    stream.flush()


def elapsed(seconds: float) -> str:
    """``00:41``, ``1:02:03``."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class _ClearLine(logging.Filter):
    """Clears the live progress line before a log record is written under it, so the two do not mix."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress

    def filter(self, record: logging.LogRecord) -> bool:
        self.progress.clear()
        return True


class Progress:
    """Progress of a long command on stderr.

    On a terminal, one line redrawn in place (at most every ``refresh`` seconds)::

        crawling  ███████░░░  143 pages  57 new  2 sites left  00:41

    With a ``unit`` (``"file"``) the line also shows the rate and, with a total, the time left.

    With ``total=None`` the bar is a block moving back and forth. Elsewhere (a log, CI) a
    plain line, only once ``interval`` seconds have passed or ``step`` of the total has been
    done since the last one, and a last line at the end if any was written. ``quiet``
    writes nothing. Use it as a context manager, or call :meth:`close`.
    """

    BAR = 10

    def __init__(
        self,
        label: str,
        *,
        total: float | None = None,
        quiet: bool = False,
        stream: TextIO | None = None,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 5.0,
        step: float = 0.1,
        refresh: float = 0.1,
        unit: str | None = None,
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        if self.stream is sys.stdout:
            raise ValueError("progress goes to stderr: stdout is for the command's data")
        self.label = label
        self.total = total
        self.quiet = quiet
        self.tty = self.stream.isatty() if tty is None else tty
        self.clock = clock
        self.interval = refresh if self.tty else interval
        self.step = step
        self.unit = unit
        self.started = clock()
        self.done = 0.0
        self.detail = ""
        self.lines = 0  # lines written (not TTY) or redraws (TTY)
        self._last_at = self.started
        self._last_fraction = 0.0
        self._frame = 0
        self._complete = False
        self._written: tuple[float, float | None, str] | None = None  # what the last line showed
        self._on_screen = False
        self._closed = False
        self._filters: list[tuple[logging.Handler, _ClearLine]] = []

    def update(self, done: float, *, total: float | None = None, detail: str | None = None) -> None:
        """Record how far along the command is; writes only when it is time to."""
        self.done = done
        if total is not None:
            self.total = total
        if detail is not None:
            self.detail = detail
        fraction = self.fraction()
        now = self.clock()
        due = now - self._last_at >= self.interval
        stepped = fraction is not None and fraction - self._last_fraction >= self.step
        if due or stepped:
            self._write(now)

    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, max(0.0, self.done / self.total))

    def bar(self) -> str:
        fraction = self.fraction()
        if fraction is None and self._complete:
            fraction = 1.0
        if fraction is None:  # unknown total: a block bouncing between the ends
            span = self.BAR - 3
            position = self._frame % (2 * span)
            start = position if position <= span else 2 * span - position
            return "░" * start + "███" + "░" * (span - start)
        filled = round(fraction * self.BAR)
        return "█" * filled + "░" * (self.BAR - filled)

    def pace(self, now: float) -> str:
        """``35.2 files/s  ETA 01:05`` once something is done and ``unit`` is set (the ETA needs a total)."""
        seconds = now - self.started
        if self.unit is None or self.done <= 0 or seconds <= 0:
            return ""
        rate = self.done / seconds
        text = f"{rate:.1f} {self.unit}s/s"
        if self.total and self.done < self.total:
            text += f"  ETA {elapsed((self.total - self.done) / rate)}"
        return text

    def render(self, now: float) -> str:
        fraction = self.fraction()
        percent = f"{fraction:4.0%}" if fraction is not None else ""
        parts = [
            self.label,
            self.bar() if self.tty else percent,
            self.detail,
            self.pace(now),
            elapsed(now - self.started),
        ]
        return GAP.join(p for p in parts if p)

    def _write(self, now: float) -> None:
        self._last_at = now
        self._last_fraction = self.fraction() or 0.0
        self._frame += 1
        self.lines += 1
        self._written = (self.done, self.total, self.detail)
        if self.quiet:
            return
        text = self.render(now)
        if self.tty:
            self._watch_logging()
            self.stream.write("\r" + truncate(text, shutil.get_terminal_size().columns - 1) + "\x1b[K")
            self._on_screen = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def clear(self) -> None:
        """Take the live line off the screen (it comes back with the next update)."""
        if self._on_screen:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._on_screen = False

    def _watch_logging(self) -> None:
        """Clear the line before a log handler writes (Scrapy installs its handler after we start)."""
        watched = {handler for handler, _ in self._filters}
        for handler in logging.getLogger().handlers:
            if handler not in watched and isinstance(handler, logging.StreamHandler):
                flt = _ClearLine(self)
                handler.addFilter(flt)
                self._filters.append((handler, flt))

    def close(self, *, complete: bool = True) -> None:
        """Show the final state (a full bar when ``complete``) and end the live line.

        In a log, the last line is written only if earlier ones were and it says something new.
        """
        for handler, flt in self._filters:
            handler.removeFilter(flt)
        self._filters.clear()
        if self._closed or self.quiet:
            return
        self._closed, self._complete = True, complete
        if self.tty:
            text = truncate(self.render(self.clock()), shutil.get_terminal_size().columns - 1)
            self.stream.write("\r" + text + "\x1b[K\n")
            self._on_screen = False
        elif self.lines and self._written != (self.done, self.total, self.detail):
            self.stream.write(self.render(self.clock()) + "\n")
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close(complete=kind is None)
