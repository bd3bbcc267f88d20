"""« Mes tâches »: an agent's tasks (every task for supervisors), live, with retry and cancel."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from server import inputs
from server.cargo import services
from server.cargo.models import Client, Colis, Lot
from sync import actions, allowed, changes
from sync.models import FAILED_STATES, RUNNING, ColisTask, Status

from . import queries, results
from .access import login, next_url
from .forms import BoardFilter, RetryForm
from .templatetags.results_extras import seconds

PER_PAGE = 25
SECTIONS = {  # section → statuses shown in it (completed: the last 24 h only)
    "active": {Status.PENDING} | RUNNING,
    "failed": FAILED_STATES,
    "completed": {Status.COMPLETED},
}


def section_of(task: ColisTask, now) -> str | None:
    """Which table of the board shows `task`, if any."""
    for name, statuses in SECTIONS.items():
        if task.status in statuses:
            if name == "completed" and task.completed_at < now - queries.DAY:
                return None
            return name
    return None


def with_clients(tasks: list[ColisTask]) -> list[ColisTask]:
    """Give each task a `client_name`, and a task that names its colis (an edit names it from
    the start, failed or not) that colis with its lot and client: two queries in all."""
    made = Colis.objects.select_related("lot", "client").in_bulk(
        {t.colis_id for t in tasks} - {None})
    ids = {inputs.row_id(t.colis_data.get("client")) for t in tasks
           if isinstance(t.colis_data, dict) and t.colis_id not in made} - {None}
    names = {str(c.pk): str(c) for c in Client.objects.filter(pk__in=ids)}
    for task in tasks:
        if colis := made.get(task.colis_id):
            task.colis = colis
            task.client_name = str(colis.client)
        else:
            task.client_name = names.get(str(task.colis_data.get("client")), "—")
    return tasks


def one_per_colis(done: QuerySet) -> QuerySet:
    """Of completed tasks, the newest per colis, each with `n_edits`, its colis' completed
    edits among `done`: a colis edited three times is one row of « Terminées », not four."""
    newer = done.filter(colis_id=OuterRef("colis_id")).filter(
        Q(completed_at__gt=OuterRef("completed_at"))
        | Q(completed_at=OuterRef("completed_at"), pk__gt=OuterRef("pk")))
    edits = (done.filter(colis_id=OuterRef("colis_id"), operation=ColisTask.Operation.UPDATE)
             .order_by().values("colis_id").annotate(n=Count("pk")).values("n"))
    return done.exclude(Exists(newer)).annotate(n_edits=Coalesce(Subquery(edits), 0))


def _sections(request, rows, now) -> dict:
    pages = {}
    for name, statuses in SECTIONS.items():
        part = rows.filter(status__in=statuses).order_by("-created_at", "-pk")  # pk: no tie
        if name == "completed":
            part = one_per_colis(part.filter(completed_at__gte=now - queries.DAY)).order_by(
                "-completed_at", "-pk")
        page = Paginator(part, PER_PAGE).get_page(request.GET.get(f"p_{name}"))
        with_clients(page.object_list)
        pages[name] = page
    return pages


def _counts(rows, now) -> dict:
    counts = queries.board_counts(rows, now)
    counts["avg_today"] = seconds(counts["avg_today"])  # as « Mes résultats » writes it
    return counts


@login
def board(request):
    tasks = ColisTask.objects.visible_to(request.user)
    cursor = tasks.aggregate(m=Max("change_seq"))["m"] or 0  # before the rows: none missed
    lots = Lot.objects.filter(pk__in=tasks.values("lot")).order_by("-created_at")[:100]
    filters = BoardFilter(request.GET, lots=lots)
    rows = filters.apply(tasks)
    now = timezone.now()
    return render(request, "web/board.html", {
        "filters": filters, "counts": _counts(rows, now), "cursor": cursor,
        "sections": _sections(request, rows, now),
        "agent": not request.user.is_supervisor,
        "mine": None if request.user.is_supervisor else results.mine(request.user),
        "targets": results.TARGETS,
    })


def _row_html(request, task: ColisTask, section: str) -> str:
    return render_to_string("web/_task_row.html", {"task": task, "section": section},
                            request=request)


@login
def changes_json(request):
    """The board's rows that changed after `since` (the changes feed), rendered, with counts."""
    try:
        since = changes.parse_cursor(request.GET.get("since"))
    except ValueError:
        return JsonResponse({"since": [_("Curseur invalide.")]}, status=400)
    tasks = ColisTask.objects.visible_to(request.user)
    rows, cursor, has_more = changes.feed(tasks, since, settings.CHANGES_PAGE)
    lot = request.GET.get("lot", "")
    chosen = Lot.objects.filter(pk=lot) if (lot := inputs.row_id(lot)) else ()  # not every lot
    filtered = BoardFilter(request.GET, lots=chosen).apply(tasks)
    now = timezone.now()
    ids = [t.pk for t in rows]
    shown = set(filtered.filter(pk__in=ids).exclude(status=Status.COMPLETED)
                .values_list("pk", flat=True))
    # A completed task shows only as its colis' newest: an older one leaves the board.
    done = one_per_colis(filtered.filter(status=Status.COMPLETED, completed_at__gte=now - queries.DAY))
    edits = dict(done.filter(pk__in=ids).values_list("pk", "n_edits"))
    items = []
    for task in with_clients(rows):
        task.n_edits = edits.get(task.pk, 0)
        section = section_of(task, now) if task.pk in shown or task.pk in edits else None
        html = _row_html(request, task, section) if section else ""
        items.append({**task.to_dict(), "section": section, "html": html})
    return JsonResponse({"items": items, "cursor": str(cursor), "has_more": has_more,
                         "counts": _counts(filtered, now) if rows else None})


@login
def task_detail(request, task_id):
    rows = ColisTask.objects.visible_to(request.user).select_related("initiated_by", "device")
    task = get_object_or_404(rows, task_id=task_id)
    form = RetryForm(task) if task.allows(allowed.RETRY_WITH_DATA) else None
    return _detail(request, task, form)


def _detail(request, task: ColisTask, form, status: int = 200):
    events = task.events.select_related("by")
    winner = (ColisTask.objects.visible_to(request.user).filter(op_id=task.superseded_by).first()
              if task.superseded_by else None)
    return render(request, "web/task_detail.html", {
        "task": with_clients([task])[0], "events": events, "form": form,
        "superseded_by": winner}, status=status)


@login
@require_POST
def task_retry(request, task_id):
    """Retry as is, or with the corrected data of the form (`corrected=1`)."""
    task = get_object_or_404(ColisTask.objects.visible_to(request.user), task_id=task_id)
    form = RetryForm(task, request.POST) if request.POST.get("corrected") else None
    if form is not None and not form.is_valid():
        return _detail(request, task, form, status=400)
    try:
        actions.retry_task(task.task_id, request.user, form.payload() if form else None)
    except actions.NotAllowed as refused:
        messages.error(request, refused.message)
    except services.InvalidData as exc:
        form = form or RetryForm(task, request.POST)
        form.is_valid()
        form.add_domain_errors(exc.errors)
        return _detail(request, task, form, status=400)
    else:
        messages.success(request, _("Tâche relancée."))
    return redirect(next_url(request, "web:board"))


@login
@require_POST
def task_cancel(request, task_id):
    task = get_object_or_404(ColisTask.objects.visible_to(request.user), task_id=task_id)
    try:
        actions.cancel_task(task.task_id, request.user)
        messages.success(request, _("Tâche annulée."))
    except actions.NotAllowed as refused:
        messages.error(request, refused.message)
    return redirect(next_url(request, "web:board"))
