"""Lots: the open ones with their totals, open and close, detail, manifest and labels."""

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from server.cargo import services
from server.cargo.models import Colis, Lot
from sync import actions
from sync.api import tasks_for
from sync.models import TaskEvent

from . import queries
from .access import login, registrar
from .forms import OpenLotForm
from .labels import qr_svg


@login
def lot_list(request):
    open_lots = queries.lot_rows(Lot.objects.filter(statut=Lot.Statut.OUVERT))
    recent = queries.lot_rows(Lot.objects.exclude(statut=Lot.Statut.OUVERT))[:20]
    return render(request, "web/lots.html", {
        "open_lots": open_lots.select_related("agent_createur"), "recent": recent,
        "form": OpenLotForm() if request.user.can_register_colis else None})


@registrar
@require_POST
def lot_open(request):
    form = OpenLotForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choisissez un type de lot."))
        return redirect("web:lots")
    lot = services.open_lot(request.user, form.cleaned_data["type_lot"])
    messages.success(request, _("Lot %(lot)s ouvert.") % {"lot": lot.numero_lot})
    return redirect("web:lot", lot_id=lot.pk)


@login
def lot_detail(request, lot_id):
    lot = get_object_or_404(Lot, pk=lot_id)
    events = Prefetch("events", queryset=TaskEvent.objects.select_related("by"))
    tasks = tasks_for(request.user).filter(lot=lot).prefetch_related(events)
    return render(request, "web/lot_detail.html", {
        "lot": lot, "totals": queries.lot_totals(lot), "colis": queries.colis_for_lot(lot),
        "tasks": tasks.select_related("initiated_by")[:200],
        "n_active": queries.active_task_count(lot)})


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
        actions.close_lot(lot.pk, request.user)
    except actions.LotBusy as busy:
        return render(request, "web/lot_close.html", {"lot": lot, "n_active": busy.active,
                                                      "refused": True}, status=409)
    except services.InvalidData:  # closed already
        return render(request, "web/lot_close.html", {"lot": lot, "n_active": n_active,
                                                      "refused": True}, status=409)
    messages.success(request, _("Lot %(lot)s fermé.") % {"lot": lot.numero_lot})
    return redirect("web:lot", lot_id=lot.pk)


MANIFEST_HEADER = ("numéro de suivi", "client", "poids (kg)", "dimensions (cm)", "prix",
                   "devise", "mode de paiement")


@login
def manifest(request, lot_id):
    """One line per colis. UTF-8 with a BOM: the warehouse opens it in Excel."""
    lot = get_object_or_404(Lot, pk=lot_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{lot.numero_lot}-manifest.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(MANIFEST_HEADER)
    for colis in queries.colis_for_lot(lot):
        writer.writerow([
            colis.numero_suivi, str(colis.client), colis.poids,
            f"{colis.longueur} × {colis.largeur} × {colis.hauteur}",
            colis.prix_calcule if colis.prix_calcule is not None else "", colis.devise,
            colis.get_mode_paiement_display()])
    return response


def _labels(request, colis: list[Colis]):
    return render(request, "web/labels.html", {
        "labels": [(c, qr_svg(c.numero_suivi)) for c in colis]})


@login
def colis_label(request, colis_id):
    colis = get_object_or_404(Colis.objects.select_related("client", "lot"), pk=colis_id)
    return _labels(request, [colis])


@login
def lot_labels(request, lot_id):
    lot = get_object_or_404(Lot, pk=lot_id)
    return _labels(request, list(queries.colis_for_lot(lot).select_related("lot")))
