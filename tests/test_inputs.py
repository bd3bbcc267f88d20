"""server/inputs.py: ids, text, decimals and depth from outside, refused as values."""

from decimal import Decimal

import pytest

from server import inputs

SIZE = {"minimum": Decimal("0.1"), "maximum": Decimal("600"), "places": 1}


@pytest.mark.parametrize("raw, expected", [
    ("12", 12), (12, 12), ("9223372036854775807", 2**63 - 1),
    ("²", None), ("٣", None), ("１２", None), ("12a", None), ("-1", None), ("0", None), (0, None),
    ("9223372036854775808", None), ("1" * 5000, None), (True, None), (1.0, None), (None, None),
    ([], None), ({}, None), ("", None), (" 12", None),
])
def test_it_reads_ascii_digits_only_as_ids(raw, expected):
    assert inputs.row_id(raw) == expected


@pytest.mark.parametrize("raw", ["1e-25", "1E3", "NaN", "nan", "Infinity", "-Infinity", "inf",
                                 "٣", "²", "1_000", "0x10", "1,5", " ", "1.2.3", "+1",
                                 float("nan"), float("inf"), 1e-25, True, [], {}])
def test_it_refuses_numbers_that_are_not_plain_decimals(raw):
    number, problem = inputs.decimal_field(raw, **SIZE)
    assert number is None and problem


@pytest.mark.parametrize("raw, expected", [("40", Decimal("40")), ("40.5", Decimal("40.5")),
                                           (40, Decimal("40")), (40.5, Decimal("40.5")),
                                           ("0.1", Decimal("0.1")), ("600", Decimal("600")),
                                           ("40.50", Decimal("40.50"))])
def test_it_reads_plain_decimals(raw, expected):
    assert inputs.decimal_field(raw, **SIZE) == (expected, None)


def test_it_states_each_limit():
    assert inputs.decimal_field("0.05", **SIZE)[1] == {"code": "min_value", "params": {"limit": "0.1"}}
    assert inputs.decimal_field("600.1", **SIZE)[1] == {"code": "max_value", "params": {"limit": "600"}}
    assert inputs.decimal_field("-3", **SIZE)[1] == "not_positive"
    assert inputs.decimal_field("0", **SIZE)[1] == "not_positive"
    assert inputs.decimal_field("40.25", **SIZE)[1] == {"code": "max_places", "params": {"limit": "1"}}
    assert inputs.decimal_field("", **SIZE)[1] == "required"


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "x\udfffy", "\x00"])
def test_it_finds_text_the_database_cannot_store(text):
    assert inputs.unstorable(text)
    assert inputs.text_problem(text, 100) == "text_unstorable"
    assert "\x00" not in inputs.query_text(text)
    inputs.query_text(text).encode("utf-8")


def test_it_keeps_ordinary_text():
    for text in ["Pièces détachées", "电子产品 20 箱", "tab\tand\nnewline", "emoji 📦"]:
        assert not inputs.unstorable(text)
        assert inputs.text_problem(text, 100) is None
        assert inputs.query_text(text) == text
    assert inputs.text_problem("x" * 101, 100) == {"code": "text_too_long", "params": {"limit": "100"}}
    assert inputs.text_problem(12, 100) == "text_expected"


def test_it_names_the_keys_holding_unstorable_text_at_any_depth():
    data = {"description": "ok", "client": {"a": [1, {"b": "\x00"}]}, "x\x00": 1,
            "lot": ["\ud83d"], "poids": "1"}
    assert sorted(inputs.unstorable_keys(data)) == ["client", "data", "lot"]


def test_it_measures_depth_without_recursing():
    deep: list = []
    node = deep
    for _ in range(100_000):
        node.append([])
        node = node[0]
    assert inputs.depth_exceeds(deep)
    assert not inputs.depth_exceeds({"items": [{"data": {"a": [1]}}]})
