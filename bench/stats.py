"""Medians with their spread, percentiles and ratios, written the same way everywhere."""

import statistics


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: list[float], digits: int = 1, unit: str = "") -> str:
    """`median [min–max] (n=runs)`: every figure of the report is written this way."""
    if not values:
        return "—"
    fmt = f"{{:.{digits}f}}"
    return (f"{fmt.format(median(values))}{unit} [{fmt.format(min(values))}–"
            f"{fmt.format(max(values))}] (n={len(values)})")


def ratio(ours: list[float], baseline: list[float], *, higher_is_better: bool = True) -> str:
    """Median of ours over median of the baseline's, as `×N` (better is > 1)."""
    a, b = median(ours), median(baseline)
    if not a or not b or a != a or b != b:
        return "—"
    value = a / b if higher_is_better else b / a
    return f"×{value:.1f}" if value >= 10 else f"×{value:.2f}"


def table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
