"""Small display helpers of the dashboards' templates."""

from datetime import datetime
from decimal import Decimal

from django import template
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from server import codes
from sync.models import Status

from ..rounding import half_up

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """Seconds as « 1 h 05 min », « 3 min 12 s » or « 8 s »; « — » for none."""
    if seconds is None or seconds == "":
        return "—"
    seconds = int(half_up(seconds))  # 2.5 s: « 3 s », as the figures round
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


@register.filter
def age(moment: datetime | None) -> str:
    """How long ago `moment` was, as a duration."""
    if moment is None:
        return "—"
    return duration((timezone.now() - moment).total_seconds())


# An age the page's script keeps current between polls (supervision.py brings a cached
# row's up to date on the server by the same markup).
SINCE = '<time datetime="{}" data-since>{}</time>'


@register.filter
def since(moment: datetime | None) -> str:
    """`age` in a <time> that the page's script keeps current between polls (« — » for none)."""
    if moment is None:
        return "—"
    return format_html(SINCE, moment.isoformat(timespec="seconds"), age(moment))


@register.filter
def status_label(value: str) -> str:
    try:
        return Status(value).label
    except ValueError:
        return value


REASONS = {
    "silent": lambda: _("Sans contact depuis des heures, avec des éléments en attente"),
    "failed": lambda: _("Tâches en échec"),
    "stale": lambda: _("Tâche en attente depuis longtemps"),
}


@register.filter
def reason_label(code: str) -> str:
    return REASONS[code]() if code in REASONS else code


# The codes of Colis.photo_error (sync/images.py, sync/photos.py), as pwa/js/codes.js has them.
PHOTO_ERRORS = {
    "photo_empty": gettext_lazy("Le fichier photo est vide (0 octet)."),
    "photo_not_image": gettext_lazy(
        "Ce fichier n'est pas une photo acceptée (JPEG, PNG, WebP ou HEIC)."),
    "photo_unreadable": gettext_lazy("La photo est tronquée ou illisible : reprenez-la."),
    "photo_too_big": gettext_lazy("La photo est trop grande (plus de 40 mégapixels)."),
    "photo_missing": gettext_lazy("La photo reçue est introuvable sur le serveur : renvoyez-la."),
    "photo_gave_up": gettext_lazy(
        "La photo n'a pas pu être traitée après plusieurs essais : reprenez-la."),
}


@register.filter
def photo_error_label(code: str) -> str:
    """A photo's error code in the viewer's language; an unknown one as it is stored."""
    return str(PHOTO_ERRORS.get(code, code))


@register.simple_tag(takes_context=True)
def page_url(context, param: str, number: int) -> str:
    """The current URL with `param` set to page `number` (other filters kept)."""
    query = context["request"].GET.copy()
    query[param] = number
    return "?" + query.urlencode()


@register.filter
def trim(value) -> str:
    """A decimal without its trailing zeros, in the page's locale: 7.500 → « 7,5 »."""
    if value in (None, ""):
        return "—"
    number = Decimal(str(value))
    number = number.quantize(Decimal(1)) if number == number.to_integral() else number.normalize()
    return number_format(number, use_l10n=True)


@register.filter
def task_error(task) -> str:
    """A failed task's reason in the viewer's language (its code; older rows, their text)."""
    if task.error_code in codes.TASK:
        return codes.task_message(task.error_code)
    return task.error_message or task.error_code


@register.filter
def field_errors(errors: dict) -> list:
    """(field, sentences) of a task's errors in the viewer's language (the conflict's current
    colis left out)."""
    return [(name, sentences) for name, sentences in codes.messages_of(errors).items()
            if isinstance(sentences, list)]


@register.filter
def event_message(message: str) -> str:
    return codes.event_message(message)


@register.filter
def step_label(step: str) -> str:
    return codes.step_label(step)
