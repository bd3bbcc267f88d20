"""What comes from outside, made safe to store or query: ids, text, decimals, JSON depth.

Every id from API data, a filter, a form or a URL goes through `row_id`; every text a
device sends is checked by `text_problem` (PostgreSQL refuses U+0000, and a lone surrogate
cannot be encoded as UTF-8); every number a person types goes through `decimal_field`.
Each answers a refusal as a value, never by raising, so one bad field stays that field's:
an error as server/codes.py records it (see `problem`).
"""

import re
from decimal import Decimal

MAX_ROW_ID = 2**63 - 1  # a bigint primary key
MAX_DEPTH = 16  # the deepest JSON a device has a reason to send (items → data → value)
_PLAIN_NUMBER = re.compile(r"-?(\d{1,12})(?:\.(\d{1,12}))?", re.ASCII)


def problem(code: str, **params) -> str | dict:
    """An error as server/codes.py records it: the bare code, or with parameters
    `{"code": ..., "params": {...}}` (as text). server/codes.py renders either for people."""
    return {"code": code, "params": {k: str(v) for k, v in params.items()}} if params else code


def row_id(value) -> int | None:
    """`value` as a primary key: an int or a string of ASCII digits in range, else None.

    `str.isdigit()` accepts "²" and "٣", which `int()` refuses or reads: neither passes here.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    if isinstance(value, int) and 0 < value <= MAX_ROW_ID:
        return value
    return None


def unstorable(text: str) -> bool:
    """True when the database cannot store `text`: a NUL, or a lone surrogate."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def text_problem(value, max_length: int) -> str | dict | None:
    """Why `value` cannot be kept as a text field of `max_length`; None if it can."""
    if not isinstance(value, str):
        return problem("text_expected")
    if unstorable(value):
        return problem("text_unstorable")
    if len(value) > max_length:
        return problem("text_too_long", limit=max_length)
    return None


def unstorable_keys(data: dict) -> list[str]:
    """The top-level keys of `data` under which some text (key or value, at any depth)
    cannot be stored; JSON columns refuse them as text columns do."""
    bad = []
    for key, value in data.items():
        if (isinstance(key, str) and unstorable(key)) or _has_unstorable(value):
            bad.append(key if isinstance(key, str) and not unstorable(key) else "data")
    return bad


def _has_unstorable(value) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if unstorable(node):
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def query_text(value: str | None) -> str:
    """A search text safe to put in a query: NUL and lone surrogates dropped."""
    if not value:
        return ""
    value = value.replace("\x00", "")
    return value.encode("utf-8", "ignore").decode("utf-8") if unstorable(value) else value


def depth_exceeds(value, limit: int = MAX_DEPTH) -> bool:
    """True when lists and objects nest deeper than `limit` (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return False


def decimal_field(value, *, minimum: Decimal, maximum: Decimal, places: int
                  ) -> tuple[Decimal | None, str | dict | None]:
    """A typed measure as (number, None), or (None, why it is refused).

    Plain decimal notation only, as a person types it: no exponent ("1e-25" would be stored
    as 0), no NaN or Infinity, no non-ASCII digits, at most `places` decimals, within
    [minimum, maximum].
    """
    if value is None or value == "":
        return None, problem("required")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None, problem("number_invalid")
    text = repr(value) if isinstance(value, float) else str(value)
    match = _PLAIN_NUMBER.fullmatch(text.strip())
    if match is None:
        return None, problem("number_invalid")
    number = Decimal(match.group(0))  # the pattern admits only plain decimals
    if number <= 0:
        return None, problem("not_positive")
    if number < minimum:
        return None, problem("min_value", limit=minimum)
    if number > maximum:
        return None, problem("max_value", limit=maximum)
    if match.group(2) and len(match.group(2).rstrip("0")) > places:
        return None, problem("max_places", limit=places)
    return number, None
