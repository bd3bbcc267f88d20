"""Half-up rounding of the figures, the same on the pages, in the exports and in /metrics.

Python's round() rounds half to even on the float's binary value: round(0.125, 2) is 0.12,
round(2.5) is 2. People and Excel round half up: 0.13 and 3. A figure first loses the
float's noise below 1e-9 (1.005 is 1.00499999999999989… as a float), then rounds half up."""

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext

NOISE = Decimal("1e-9")


def half_up_decimal(value, digits: int = 0) -> Decimal:
    with localcontext(prec=60):  # a figure's digits and the noise's, whatever its size
        exact = Decimal(repr(float(value))).quantize(NOISE, rounding=ROUND_HALF_EVEN)
        return exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def half_up(value, digits: int = 0) -> float | None:
    """`value` rounded half up to `digits` decimals, as a float; None stays None."""
    return None if value is None else float(half_up_decimal(value, digits))
