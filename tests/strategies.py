"""Hypothesis strategies of what an attacker (or a pasted cell) sends: control characters,
lone surrogates, non-ASCII digits and numerals, huge and tiny exponents, deep nesting.
Shared by the fuzz tests and bench/fuzz.py."""

from urllib.parse import quote

from hypothesis import strategies as st

NASTY = ["\x00", "a\x00b", "\ud800", "x\udfffy", "\x1b[2J", "\u202e", "\ufeff", "²", "³", "٣",
         "١٢", "१२", "１２", "Ⅻ", "½", "1e-25", "1E3", "1e400", "-1e400", "9e999999", "1e-999999",
         "NaN", "nan", "Infinity", "-Infinity", "inf", "0x10", "1_000", "-0", "+1", " 12 ", "",
         "9" * 40, "0" * 30 + "1", "1" * 5000, "%00", "' OR 1=1 --", "../../etc/passwd"]
# Every character, lone surrogates and control characters included.
any_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=20)
nasty_text = st.one_of(st.sampled_from(NASTY), any_text,
                       st.builds(lambda a, b: a + b, st.sampled_from(NASTY), any_text))
numbers = st.one_of(st.integers(), st.integers(min_value=2**62, max_value=2**70),
                    st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([1e-25, 1e300, -0.0, 5e-324]))
scalars = st.one_of(st.none(), st.booleans(), numbers, nasty_text)


def query(value: str) -> str:
    """`value` percent-encoded as raw bytes, lone surrogates included (as %ED%A0%80...)."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def nested(depth: int):
    """A list nested `depth` deep (deeper than any parser should recurse)."""
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


values = st.one_of(st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                                | st.dictionaries(nasty_text, inner, max_size=3), max_leaves=8),
                   st.integers(min_value=17, max_value=400).map(nested))
