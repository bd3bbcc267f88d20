"""Lot and tracking numbers, unique under concurrency without count() + 1.

Each number comes from a `Sequence` row advanced under a row lock
(SELECT … FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions
serialise writers), so two openings never read the same value.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Sequence

SUIVI_PREFIX = "CS"


def next_value(key: str, count: int = 1) -> int:
    """Advance the counter `key` by `count` and return its new value (the last one taken)."""
    with transaction.atomic(savepoint=False):
        row = Sequence.objects.select_for_update().filter(key=key).first()
        if row is None:
            try:
                with transaction.atomic():
                    Sequence.objects.create(key=key, value=count)
                return count
            except IntegrityError:  # another process created it first: take it in turn
                row = Sequence.objects.select_for_update().get(key=key)
        row.value += count
        row.save(update_fields=["value"])
        return row.value


def next_numero_lot(type_lot: str, now=None) -> str:
    """`CARGO-20261124-001`: type, the warehouses' local date, sequence per type and day."""
    day = timezone.localdate(now).strftime("%Y%m%d")
    prefix = f"{type_lot.upper()}-{day}"
    return f"{prefix}-{next_value('lot:' + prefix):03d}"


def luhn_digit(digits: str) -> str:
    """The Luhn check digit for a string of digits: catches any single mistyped digit
    and most swaps of two neighbours."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def next_numero_suivi(now=None) -> str:
    """`CS26-000042-7`: year, sequence per year, Luhn check digit."""
    return next_numeros_suivi(1, now)[0]


def next_numeros_suivi(count: int, now=None) -> list[str]:
    """`count` consecutive tracking numbers, taken with one counter update."""
    if count < 1:
        return []
    year = suivi_year(now)
    last = next_value(suivi_key(year), count)
    return [format_numero_suivi(year, seq) for seq in range(last - count + 1, last + 1)]


def suivi_year(now=None) -> str:
    """The two digits of the year whose sequence numbers colis now (the warehouses' clock)."""
    return timezone.localdate(now).strftime("%y")


def suivi_key(year: str) -> str:
    """The counter of a year's tracking numbers (the server's and the devices' leases)."""
    return f"suivi:{year}"


def format_numero_suivi(year: str, seq: int) -> str:
    """The tracking number `seq` of the year `year` ("26"), with its check digit."""
    return f"{SUIVI_PREFIX}{year}-{seq:06d}-{luhn_digit(f'{year}{seq:06d}')}"


def parse_numero_suivi(text) -> tuple[str, int] | None:
    """(year, seq) of a well-formed tracking number as written by format_numero_suivi, else
    None (a typo, another form, not a string)."""
    if not isinstance(text, str) or len(text) > 24 or not text.isascii() \
            or not is_valid_numero_suivi(text):
        return None
    year, seq, _check = text[len(SUIVI_PREFIX):].split("-")
    if text != format_numero_suivi(year, int(seq)):  # lower case, spaces, extra zeros
        return None
    return year, int(seq)


def is_valid_numero_suivi(text: str) -> bool:
    """True when `text` has the form of a tracking number and its check digit matches."""
    parts = text.strip().upper().split("-")
    if len(parts) != 3 or not parts[0].startswith(SUIVI_PREFIX):
        return False
    year, seq, check = parts[0][len(SUIVI_PREFIX):], parts[1], parts[2]
    if not (year.isdigit() and seq.isdigit() and check.isdigit() and len(check) == 1):
        return False
    return luhn_digit(year + seq) == check
