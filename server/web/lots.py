"""Lots: the open ones with their totals, open and close, detail, manifest and labels."""


from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from server import codes
from server.cargo import services
from server.cargo.models import Colis, Lot
from sync.models import ColisTask, TaskEvent

from . import manifest as manifest_exports
from . import queries
from .access import login, registrar
from .forms import OpenLotForm
from .labels import qr_svg

LOTS_PER_PAGE = 25  # open lots on /lots/ (as on the board)
COLIS_PER_PAGE = 50  # colis on a lot's page: a 10,000-colis lot in 200 pages
TASKS_PER_PAGE = 25  # tasks with their history on a lot's page (as on the board)
LABELS_PER_PAGE = 100  # labels on a sheet, printed a page at a time


def _page(request, rows: QuerySet, param: str, per_page: int, count: int | None = None) -> Page:
    """Page `?<param>=N` of `rows` (the first for a missing or bad number, the last past it);
    `count`, when the caller has counted them already, spares counting them again.

    The page is chosen on bare primary keys, then its rows are read with their joins: deep
    in a lot of thousands, the OFFSET then skips keys, not joined rows (a join of every
    task with its colis was 0.4 s on the last page of a 10,000-colis lot).
    """
    paginator = Paginator(rows.values_list("pk", flat=True), per_page)
    if count is not None:
        paginator.count = count  # a cached property: this is its value
    page = paginator.get_page(request.GET.get(param))
    found = rows.in_bulk(list(page.object_list))
    page.object_list = [found[pk] for pk in page.object_list if pk in found]
    return page


@login
def lot_list(request):
    lots = Lot.objects.order_by("-created_at", "-pk")
    open_lots = _page(request, lots.filter(statut=Lot.Statut.OUVERT), "p", LOTS_PER_PAGE)
    open_lots.object_list = queries.lot_rows(open_lots.object_list)
    recent = queries.lot_rows(lots.exclude(statut=Lot.Statut.OUVERT)[:20])
    return render(request, "web/lots.html", {
        "open_lots": open_lots, "recent": recent,
        "form": OpenLotForm() if request.user.can_register_colis else None})


@registrar
@require_POST
def lot_open(request):
    form = OpenLotForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choisissez un type de lot."))
        return redirect("web:lots")
    try:
        lot = services.open_lot(request.user, form.cleaned_data["type_lot"])
    except services.InvalidData as exc:  # past OPEN_LOT_RATE, say
        for texts in codes.messages_of(exc.errors).values():
            messages.error(request, " ".join(texts))
        return redirect("web:lots")
    messages.success(request, _("Lot %(lot)s ouvert.") % {"lot": lot.numero_lot})
    return redirect("web:lot", lot_id=lot.pk)


@login
def lot_detail(request, lot_id):
    """The lot's totals over all its colis; its colis and its tasks a page at a time."""
    lot = queries.lot_rows([get_object_or_404(Lot, pk=lot_id)])[0]
    events = Prefetch("events", queryset=TaskEvent.objects.select_related("by"))
    tasks = (ColisTask.objects.visible_to(request.user).filter(lot=lot)
             .select_related("initiated_by").prefetch_related(events).order_by("-created_at", "-pk"))
    return render(request, "web/lot_detail.html", {
        "lot": lot,
        "colis": _page(request, queries.colis_for_lot(lot), "p_colis", COLIS_PER_PAGE,
                       count=lot.n_colis),
        "tasks": _page(request, tasks, "p_tasks", TASKS_PER_PAGE)})


def _may_close(user) -> bool:
    return user.can_register_colis or user.is_supervisor


@login
def lot_close(request, lot_id):
    """GET asks for confirmation; POST closes, unless tasks for the lot are still active."""
    lot = get_object_or_404(Lot, pk=lot_id)
    if not _may_close(request.user):
        raise PermissionDenied
    n_active = queries.active_task_count(lot)
    if request.method != "POST":
        return render(request, "web/lot_close.html", {"lot": lot, "n_active": n_active})
    try:
        services.close_lot(lot, request.user)
    except services.LotBusy as busy:
        return render(request, "web/lot_close.html", {"lot": lot, "n_active": busy.active,
                                                      "refused": True}, status=409)
    except services.InvalidData:  # closed already
        return render(request, "web/lot_close.html", {"lot": lot, "n_active": n_active,
                                                      "refused": True}, status=409)
    messages.success(request, _("Lot %(lot)s fermé.") % {"lot": lot.numero_lot})
    return redirect("web:lot", lot_id=lot.pk)


@login
def manifest(request, lot_id):
    """The lot's manifest as CSV in the viewer's language's dialect (server/web/manifest.py)."""
    return manifest_exports.csv_file(get_object_or_404(Lot, pk=lot_id))


@login
def manifest_xlsx(request, lot_id):
    """The lot's manifest as XLSX: numbers as numbers, one column per dimension, totals."""
    return manifest_exports.xlsx(get_object_or_404(Lot, pk=lot_id))


def _labels(request, colis, page: Page | None = None):
    return render(request, "web/labels.html", {
        "labels": [(c, qr_svg(c.numero_suivi)) for c in colis], "page": page})


@login
def colis_label(request, colis_id):
    colis = get_object_or_404(Colis.objects.select_related("client", "lot"), pk=colis_id)
    return _labels(request, [colis])


@login
def lot_labels(request, lot_id):
    """A sheet of LABELS_PER_PAGE labels: a lot of thousands prints page after page."""
    lot = get_object_or_404(Lot, pk=lot_id)
    page = _page(request, queries.colis_for_lot(lot).select_related("lot"), "p",
                 LABELS_PER_PAGE)
    return _labels(request, page.object_list, page)
