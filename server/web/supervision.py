"""« Synchronisation »: every agent and device, queue health, the last 24 h, and actions."""

import functools
import hashlib
import re
import uuid
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db.models import Prefetch
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import get_template, render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from redis.exceptions import RedisError

from server import inputs
from server.accounts.models import Device
from sync import actions, counters, health
from sync.models import FAILED_STATES, ColisTask, TaskEvent

from . import queries
from .access import supervisor
from .board import with_clients
from .charts import hourly_svg
from .templatetags.web_extras import SINCE, duration

FAILED_SHOWN = 50
LIVE_STATE = "supervision:live:{}"  # cache key: a version → its rows' and health's digests
LIVE_KEEP = 600  # seconds a version stays known to the polls (a miss answers the whole part)
FRAGMENT = "supervision:{}:{}:{}:{}"  # cache key: release, kind, language, digest → a <tr>
VERSION = re.compile(r"[0-9a-f]{16}")
AGES = re.compile(r'<time datetime="([^"<>]+)" data-since>[^<]*</time>')  # web_extras.SINCE


def _digest(*parts) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=8).hexdigest()


def _row_digest(row: queries.SyncRow) -> str:
    """Everything a row shows but its ages, which the page's script keeps current itself;
    what depends on the time (a reason, an expired token) is in it."""
    device = row.device
    shown = device and (device.pk, device.name, device.last_seen_at, device.outbox_pending,
                        device.outbox_photos, device.oldest_pending_at, device.numeros_unused,
                        device.is_revoked, device.is_expired)
    return _digest(row.user.pk, row.user.username, shown, row.pending, row.running,
                   row.failed, row.oldest_pending_at, row.reasons)


def _live(request) -> dict:
    """The live part's context, with its version: a digest of each row, of the health
    card, and of them all (the same version: nothing to redraw)."""
    rows = queries.sync_rows()
    report = health.report()
    swept = parse_datetime((report.get("sweeper") or {}).get("at") or "")
    # The oldest pending task is the oldest of the rows' (they count every open task).
    oldest = min((row.oldest_pending_at for row in rows if row.oldest_pending_at), default=None)
    for row in rows:
        row.key = f"{row.user.pk}-{row.device.pk if row.device else 0}"
        row.digest = _row_digest(row)
    sync_day = counters.last_day()
    health_digest = _digest(sorted((k, repr(v)) for k, v in report.items()
                                   if k != "oldest_pending_age"),
                            oldest, request.user.can_manage_queues, sync_day)
    version = _digest(get_language(), request.user.pk, health_digest,
                      [(row.key, row.digest) for row in rows])
    return {"rows": rows, "health": report, "sync_day": sync_day, "swept_at": swept,
            "oldest_pending_at": oldest,
            "health_digest": health_digest, "version": version,
            "now": timezone.now().isoformat(timespec="milliseconds")}


def _draw(rows: list[queries.SyncRow]) -> list[queries.SyncRow]:
    """Give each row of agents and devices its `html`, its <tr> (see _drawn)."""
    return _drawn(rows, "web/_supervision_row.html", "row", lambda row: row.digest)


def _failed_digest(task: ColisTask) -> str:
    """Everything a failed task's row shows but its age (with_clients' colis and client)."""
    colis = task.colis_id and task.colis  # the colis with_clients gave it, if any
    return _digest(task.pk, task.task_id, task.status, task.error_code, task.error_message,
                   task.operation, task.updated_at, task.initiated_by.username,
                   task.device and task.device.name, task.lot and task.lot.numero_lot,
                   colis and (colis.numero_suivi, colis.lot and colis.lot.numero_lot),
                   task.client_name)


@functools.cache
def _release(template: str) -> str:
    """A digest of what draws a row besides its data: its template and the translations.
    In the row's cache key, so that a deploy never serves rows the last release drew."""
    sources = [Path(get_template(template).origin.name),
               *sorted(Path(p) for base in settings.LOCALE_PATHS for p in Path(base).rglob("*.mo"))]
    return _digest(*(path.read_bytes() for path in sources))[:8]


def _drawn(items: list, template: str, name: str, digest) -> list:
    """Give each of `items` its `html`: `template` rendered with it as `name`, from the
    cache when an item with the same digest (of all it shows but its ages) was drawn in the
    same language (200 agents: most rows have not changed since the last poll), its ages
    brought up to date; the others rendered (no request: no CSRF token in them), and kept."""
    language = get_language()
    release = _release(template)
    names = [FRAGMENT.format(release, name, language, digest(item)) for item in items]
    try:
        cached = cache.get_many(names)
    except RedisError:
        cached = {}
    drawn = {key: render_to_string(template, {name: item})
             for key, item in zip(names, items, strict=True) if key not in cached}
    if drawn:
        try:
            cache.set_many(drawn, LIVE_KEEP)
        except RedisError:
            pass
    now = timezone.now()

    def age(match: re.Match) -> str:
        seconds = (now - datetime.fromisoformat(match[1])).total_seconds()
        return SINCE.format(match[1], duration(seconds))

    for key, item in zip(names, items, strict=True):  # a cached one is HTML drawn here
        item.html = mark_safe(AGES.sub(age, cached.get(key) or drawn[key]))  # noqa: S308
    return items


def _remember(live: dict, touch: bool = False) -> None:
    """Keep what the version shows, for the next poll to send only what differs (`touch`:
    it is kept already; keep it longer, unless it is gone)."""
    state = {"rows": {row.key: row.digest for row in live["rows"]},
             "health": live["health_digest"]}
    key = LIVE_STATE.format(live["version"])
    try:
        if not (touch and cache.touch(key, LIVE_KEEP)):
            cache.set(key, state, LIVE_KEEP)
    except RedisError:
        pass  # the next poll gets the whole part


def _recall(version: str) -> dict | None:
    try:
        return cache.get(LIVE_STATE.format(version))
    except RedisError:
        return None


def _options(choices: list[tuple[int, str]]) -> str:
    """<option>s of (pk, name): a thousand lots may have failures, joined here rather than
    looped over in the template or by format_html (a tenth and a third of the time)."""
    return mark_safe("".join(f'<option value="{pk:d}">{escape(name)}</option>'  # noqa: S308
                             for pk, name in choices))  # an int, and escaped text


@supervisor
def overview(request):
    live = _live(request)
    _remember(live)
    _draw(live["rows"])
    failed = (ColisTask.objects.filter(status__in=FAILED_STATES)
              .select_related("lot", "initiated_by", "device").order_by("-updated_at"))
    agents, lots = queries.failed_choices()
    return render(request, "web/supervision.html", {
        **live,
        "chart": hourly_svg(queries.hourly_chart(), _("Dernières 24 heures")),
        "failed": _drawn(with_clients(list(failed[:FAILED_SHOWN])),
                         "web/_supervision_failed.html", "task", _failed_digest),
        "n_failed": failed.count(),
        "agent_options": _options(agents), "lot_options": _options(lots),
    })


@supervisor
def fragment(request):
    """The live part (rows and health) for the polling script.

    Without `v`: the whole part as HTML. With `v`, the version the page shows: 204 when
    nothing changed; else JSON with the new version and only what differs from `v` (the
    changed rows, the rows' order if it moved, the health card if it changed), or the whole
    part (`full`) when `v` is no longer known or the table was or becomes empty."""
    live = _live(request)
    known = request.GET.get("v")
    if known is None:
        _draw(live["rows"])
        return render(request, "web/_supervision_live.html", live)
    if known == live["version"]:
        _remember(live, touch=True)
        return HttpResponse(status=204)
    known = known if VERSION.fullmatch(known) else ""
    _remember(live)
    rows = live["rows"]
    answer = {"version": live["version"], "now": live["now"]}
    before = _recall(known) if known else None
    if not before or not before["rows"] or not rows:
        _draw(rows)
        answer["full"] = render_to_string("web/_supervision_live.html", live, request)
        return JsonResponse(answer)
    changed = _draw([row for row in rows if before["rows"].get(row.key) != row.digest])
    answer["rows"] = {row.key: row.html for row in changed}
    order = [row.key for row in rows]
    answer["order"] = order if order != list(before["rows"]) else None
    answer["health"] = (render_to_string("web/_supervision_health.html", live, request)
                        if before["health"] != live["health_digest"] else None)
    return JsonResponse(answer)


def _selection(request):
    """The failed tasks a bulk retry names: ticked ones, or all of an agent or of a lot."""
    post = request.POST
    tasks = ColisTask.objects.all()
    if agent := inputs.row_id(post.get("agent")):
        return tasks.filter(initiated_by_id=agent)
    if lot := inputs.row_id(post.get("lot")):
        return tasks.filter(lot_id=lot)
    ids = []
    for raw in post.getlist("task"):
        try:
            ids.append(uuid.UUID(raw))
        except ValueError:
            continue
    return tasks.filter(task_id__in=ids)


@supervisor
@require_POST
def bulk_retry(request):
    count = actions.bulk_retry(_selection(request), request.user)
    messages.success(request, ngettext("%(n)d tâche relancée.", "%(n)d tâches relancées.",
                                       count) % {"n": count})
    return redirect("web:supervision")


@supervisor
@require_POST
def revoke(request, device_id):
    device = get_object_or_404(Device, pk=device_id)
    device.revoke()
    messages.success(request, _("Jeton de « %(name)s » révoqué : la tablette garde ses données "
                                "et doit se reconnecter.") % {"name": device.name})
    return redirect("web:supervision")


@supervisor
def search(request):
    query = inputs.query_text(request.GET.get("q", ""))
    events = Prefetch("events", queryset=TaskEvent.objects.select_related("by"))
    tasks = queries.search_tasks(query).prefetch_related(events).order_by("-created_at")[:50]
    return render(request, "web/search.html", {"q": query,
                                               "tasks": with_clients(list(tasks))})
