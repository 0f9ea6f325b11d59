"""When a site's next crawl is due: every N minutes, or a five-field cron expression.

Pure functions of a time (no clock inside): the scheduler passes "now" in, so
tests drive it with any clock. Times are timezone-aware; cron fields are read in
China time (UTC+08:00), the sites' own.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crawler.sites import Schedule

CHINA = timezone(timedelta(hours=8))
FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 7))  # 0 and 7: Sunday
SEARCH_LIMIT = timedelta(days=366 * 4)  # a cron that never matches (31 February) must not loop forever


class CronError(ValueError):
    """A cron field that cannot be read; the message names the field."""


def parse_field(text: str, name: str, low: int, high: int) -> frozenset[int]:
    """``*``, ``*/n``, ``a``, ``a-b``, ``a-b/n`` and comma lists of them."""
    values: set[int] = set()
    for item in text.split(","):
        spec, _, step_text = item.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if spec == "*":
                first, last = low, high
            elif "-" in spec:
                first, last = (int(x) for x in spec.split("-", 1))
            else:
                first = last = int(spec)
        except ValueError as error:
            raise CronError(f"cron {name} field {text!r} is not a number, range or step") from error
        if step < 1 or not low <= first <= last <= high:
            raise CronError(f"cron {name} field {text!r} is outside {low}-{high}")
        values.update(range(first, last + 1, step))
    if name == "weekday" and 7 in values:
        values = (values - {7}) | {0}
    return frozenset(values)


def cron_fields(expression: str) -> tuple[frozenset[int], ...]:
    parts = expression.split()
    if len(parts) != len(FIELDS):
        raise CronError(f"cron {expression!r} must have five fields (minute hour day month weekday)")
    return tuple(parse_field(text, *field) for text, field in zip(parts, FIELDS, strict=True))


#: the most days each month has in a common year: a cron on 29 February fires only in leap years
MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def fires_every_year(expression: str) -> bool:
    """True when the expression matches some minute of every year (``0 0 31 2 *`` never does)."""
    _, _, days, months, _ = cron_fields(expression)
    day_text, weekday_text = expression.split()[2], expression.split()[4]
    if weekday_text != "*":  # a weekday comes round every week of every month
        return True
    return day_text == "*" or any(day <= MONTH_DAYS[month - 1] for month in months for day in days)


def next_cron(expression: str, after: datetime) -> datetime:
    """The first minute strictly after ``after`` that the expression matches."""
    minutes, hours, days, months, weekdays = cron_fields(expression)
    day_any, weekday_any = expression.split()[2] == "*", expression.split()[4] == "*"
    moment = after.astimezone(CHINA).replace(second=0, microsecond=0) + timedelta(minutes=1)
    end = moment + SEARCH_LIMIT
    while moment < end:
        weekday = (moment.weekday() + 1) % 7  # cron: 0 = Sunday
        # cron's rule: when both day fields are restricted, either may match
        day_ok = (
            moment.day in days
            if weekday_any
            else (weekday in weekdays if day_any else moment.day in days or weekday in weekdays)
        )
        if moment.month not in months or not day_ok:
            moment = (moment + timedelta(days=1)).replace(hour=0, minute=0)
        elif moment.hour not in hours:
            moment = (moment + timedelta(hours=1)).replace(minute=0)
        elif moment.minute not in minutes:
            moment += timedelta(minutes=1)
        else:
            return moment
    raise CronError(f"cron {expression!r} never matches")


def next_run(schedule: Schedule, after: datetime) -> datetime:
    if schedule.interval_minutes is not None:
        return after + timedelta(minutes=schedule.interval_minutes)
    assert schedule.cron is not None
    return next_cron(schedule.cron, after)
