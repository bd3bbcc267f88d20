"""« Synchronisation »: every agent and device, queue health, the last 24 h, and actions."""

import uuid

from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from server import inputs
from server.accounts.models import Device, User
from server.cargo.models import Lot
from sync import actions, health
from sync.models import FAILED_STATES, ColisTask, TaskEvent

from . import queries
from .access import supervisor
from .board import with_clients
from .charts import hourly_svg

FAILED_SHOWN = 50


def _live(request) -> dict:
    report = health.report()
    swept = parse_datetime((report.get("sweeper") or {}).get("at") or "")
    return {"rows": queries.sync_rows(), "health": report, "swept_at": swept}


@supervisor
def overview(request):
    failed = (ColisTask.objects.filter(status__in=FAILED_STATES)
              .select_related("lot", "initiated_by", "device").order_by("-updated_at"))
    return render(request, "web/supervision.html", {
        **_live(request),
        "chart": hourly_svg(queries.hourly_chart(), _("Dernières 24 heures")),
        "failed": with_clients(list(failed[:FAILED_SHOWN])), "n_failed": failed.count(),
        "agents": User.objects.filter(colis_tasks__status__in=FAILED_STATES).distinct()
        .order_by("username"),
        "lots": Lot.objects.filter(tasks__status__in=FAILED_STATES).distinct(),
    })


@supervisor
def fragment(request):
    """The live part of the page (rows and health), re-rendered for the polling script."""
    return render(request, "web/_supervision_live.html", _live(request))


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
