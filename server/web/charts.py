"""The supervisors' 24 h chart, drawn as inline SVG on the server (no script, no CDN)."""

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 36, 44, 12, 28


def _scale(values: list[float], floor: float = 1) -> float:
    return max([v for v in values if v is not None] + [floor])


def _polyline(points: list[tuple[float, float]], css: str) -> str:
    if not points:
        return ""
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" class="{css}"/>'
                   for x, y in points)
    return f'<polyline points="{coords}" class="{css}" fill="none"/>{dots}'


def hourly_svg(buckets: list[dict], title: str) -> SafeString:
    """Bars: items received and completed per hour (left axis); lines: median and p95
    seconds from receipt to completion (right axis)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(buckets)
    count_max = _scale([b["received"] for b in buckets] + [b["completed"] for b in buckets])
    secs_max = _scale([b["p95"] for b in buckets] + [b["median"] for b in buckets])
    base = TOP + plot_h
    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" role="img">'
             f"<title>{escape(title)}</title>",
             f'<line x1="{LEFT}" y1="{base}" x2="{LEFT + plot_w}" y2="{base}" class="axis"/>']
    median, p95 = [], []
    for i, b in enumerate(buckets):
        x = LEFT + i * slot
        for offset, key in ((0.1, "received"), (0.5, "completed")):
            h = plot_h * b[key] / count_max
            parts.append(f'<rect x="{x + slot * offset:.1f}" y="{base - h:.1f}" '
                         f'width="{slot * 0.4:.1f}" height="{h:.1f}" class="bar-{key}">'
                         f"<title>{b[key]}</title></rect>")
        centre = x + slot / 2
        for line, key in ((median, "median"), (p95, "p95")):
            if b[key] is not None:
                line.append((centre, base - plot_h * b[key] / secs_max))
        if i % 3 == 0:
            hour = timezone.localtime(b["start"]).strftime("%H:%M")
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 8}" class="tick">{hour}</text>')
    parts.append(_polyline(median, "line-median") + _polyline(p95, "line-p95"))
    parts.append(f'<text x="4" y="{TOP + 8}" class="tick">{int(count_max)}</text>')
    parts.append(f'<text x="{WIDTH - RIGHT + 4}" y="{TOP + 8}" class="tick">'
                 f"{_seconds(secs_max)}</text>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every value above is a number or escaped


def _seconds(value: float) -> str:
    if value >= 3600:
        return f"{value / 3600:.1f} h"
    if value >= 60:
        return f"{value / 60:.0f} min"
    return f"{value:.0f} s"
