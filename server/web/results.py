"""« Résultats »: the rollout's figures against its targets, on a page and as CSV or XLSX."""

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from server.accounts.models import User

from . import figures, sheets
from .access import supervisor
from .figures import Figures


@supervisor
def overview(request):
    data = figures.page_results()
    return render(request, "web/results.html", {
        "results": data, "gap_min": figures.GAP // 60, "lead_in_s": figures.LEAD_IN,
        "targets": {"save_ms": figures.SAVE_P50_MAX_MS, "per_hour": figures.COLIS_PER_HOUR_MIN,
                    "rate": figures.FAILURE_RATE_MAX * 100,
                    "backend": figures.BACKEND_AVG_MAX_S}})


def _columns() -> list[str]:
    return [_("Portée"), _("Jour ou agent"), _("Tâches enregistrées"), _("Colis"),
            _("Heures actives"), _("Colis par heure-agent"), _("Saisie p50 (ms)"),
            _("Saisie p95 (ms)"), _("Saisie à terminé, moyenne (s)"),
            _("Saisie à terminé, p95 (s)"), _("Traitement serveur, moyenne (s)"),
            _("Traitement serveur, p95 (s)"), _("Photos"), _("Photos en échec"),
            _("Échecs photo (%)"), _("Requêtes de synchronisation"), _("Réponses 5xx"),
            _("Réponses 5xx (%)"), _("Requêtes refusées"), _("Requêtes refusées (%)")]


def _round(value, digits: int = 2):
    return None if value is None else round(value, digits)


def _pct(value):
    return None if value is None else round(value * 100, 2)


def _row(scope: str, label, f: Figures) -> list:
    return [scope, label, f.saves, f.colis, _round(f.active_s / 3600, 3),
            _round(f.colis_per_hour), _round(f.save_p50, 0), _round(f.save_p95, 0),
            _round(f.took_avg), _round(f.took_p95), _round(f.backend_avg),
            _round(f.backend_p95), f.photos, f.photos_failed, _pct(f.photo_failure_rate),
            f.requests, f.server_errors, _pct(f.error_rate), f.refused, _pct(f.refused_rate)]


def table(data: figures.Results) -> list[list]:
    """The export's rows: the targets, the whole period, each day, each agent."""
    target = [_("Objectif"), "", None, None, None, figures.COLIS_PER_HOUR_MIN,
              figures.SAVE_P50_MAX_MS, None, None, None, figures.BACKEND_AVG_MAX_S, None,
              None, None, figures.FAILURE_RATE_MAX * 100, None, None,
              figures.FAILURE_RATE_MAX * 100, None, None]
    rows = [target, _row(_("Total"), _("%(n)d jours") % {"n": len(data.days)}, data.total)]
    rows += [_row(_("Jour"), day, f) for day, f in data.days]
    rows += [_row(_("Agent"), user.username, f) for user, f in data.agents]
    return rows


def _filename(ext: str) -> str:
    return f"resultats-{timezone.localdate():%Y%m%d}.{ext}"


@supervisor
def export_csv(request):
    return sheets.csv_response(_filename("csv"), _columns(), table(figures.page_results()))


@supervisor
def export_xlsx(request):
    return sheets.xlsx_response(_filename("xlsx"), _("Résultats"), _columns(),
                                table(figures.page_results()))


def mine(user: User) -> Figures:
    """The user's own figures over the page's period, for « Mes tâches »."""
    return figures.results(agent=user).total
