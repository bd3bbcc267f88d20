"""Display helpers of « Résultats » and of the agent's own figures on « Mes tâches »."""

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _

from ..rounding import half_up, half_up_decimal
from .web_extras import duration

register = template.Library()


def floatformat(value, digits: int) -> str:
    """`value` rounded half up to `digits` decimals (rounding.py), in the viewer's format."""
    return number_format(half_up_decimal(value, digits), decimal_pos=digits)


@register.filter
def number(value, digits: int = 1) -> str:
    """A number in the viewer's format with `digits` decimals; « — » for none."""
    return "—" if value is None else floatformat(value, digits)


@register.filter
def percent(rate, digits: int = 1) -> str:
    """A rate (0.015) as « 1,5 % »; « — » for none."""
    return "—" if rate is None else f"{floatformat(rate * 100, digits)} %"


@register.filter
def seconds(value, digits: int = 1) -> str:
    """Seconds as « 3,2 s » under a minute, else as every duration of the pages is written
    (web_extras.duration): « 45 min 30 s », « 4 h 36 min »; « — » for none."""
    if value is None:
        return "—"
    if half_up(value, digits) < 60:  # (and a negative one, which no clock should give)
        return f"{floatformat(value, digits)} s"
    return duration(value)


@register.filter
def millis(value) -> str:
    """Milliseconds as « 850 ms » under two seconds, else « 2,4 s »; « — » for none."""
    if value is None:
        return "—"
    return f"{floatformat(value, 0)} ms" if half_up(value) < 2000 else f"{floatformat(value / 1000, 1)} s"


@register.filter
def met(value) -> str:
    """A target's badge: met, not met, or « — » with nothing to judge it by."""
    if value is None:
        return "—"
    if value:
        return format_html('<span class="badge good">{}</span>', _("atteint"))
    return format_html('<span class="badge bad">{}</span>', _("non atteint"))


@register.filter
def seconds_to_hours(value) -> str:
    """Active seconds as hours, « 1,25 h »."""
    return f"{floatformat(value / 3600, 2)} h"
