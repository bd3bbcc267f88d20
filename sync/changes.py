"""The changes feed: what changed for a device since its cursor, never skipping a change.

Every write to a task takes the next value of one counter row (`changes`) under a
row lock, as the last statement before its transaction commits. The lock is held
until commit, so a later writer waits: values are handed out in commit order, and
a reader can never see value n+1 committed while n is still in flight. The cursor
is simply the last value the device has seen; the feed returns rows above it,
lowest first.
"""

from django.db import transaction

from server.cargo.numbering import next_value

from .models import ColisTask

FEED_KEY = "changes"


def stamp(task: ColisTask) -> None:
    """Give `task` the next feed position (call inside the writing transaction, then save)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("stamp() must run inside the transaction that writes the task")
    task.change_seq = next_value(FEED_KEY)


def stamp_many(tasks: list[ColisTask]) -> None:
    """Give tasks about to be written (inserted or updated) their feed positions, with one
    counter update.

    Call it just before the write, in the same transaction: from here to the commit the
    counter's lock is held. (A new task that then loses its op_id to a concurrent copy leaves
    a gap in the positions, which the feed does not mind.)
    """
    if not tasks:
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("stamp_many() must run inside the transaction that writes the tasks")
    last = next_value(FEED_KEY, len(tasks))
    for offset, task in enumerate(tasks):
        task.change_seq = last - len(tasks) + 1 + offset


def stamp_by_id(tasks: list[ColisTask]) -> int:
    """Feed positions for saved tasks written by one UPDATE: the counter advances by the span
    of their ids, and each task's position is its id + the returned offset (unique, above
    every earlier position; the span's unused values are gaps, which the feed does not mind).
    Sets `change_seq` on the objects too. Same rule as `stamp`: last before the commit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("stamp_by_id() must run inside the transaction that writes the tasks")
    first, last = min(t.pk for t in tasks), max(t.pk for t in tasks)
    offset = next_value(FEED_KEY, last - first + 1) - last
    for task in tasks:
        task.change_seq = task.pk + offset
    return offset


def parse_cursor(raw: str | None) -> int:
    """A cursor is a non-negative integer as text; anything else raises ValueError."""
    if raw in (None, ""):
        return 0
    value = int(raw)
    if value < 0:
        raise ValueError("negative cursor")
    return value


def feed(queryset, since: int, limit: int) -> tuple[list[ColisTask], int, bool]:
    """Rows of `queryset` changed after `since`, oldest change first: (rows, cursor, has_more)."""
    rows = list(queryset.filter(change_seq__gt=since).order_by("change_seq")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    cursor = rows[-1].change_seq if rows else since
    return rows, cursor, has_more
