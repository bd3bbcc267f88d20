"""« Résultats »: the rollout's figures against its targets, on a page and as CSV or XLSX."""

from django.conf import settings
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from server.accounts.models import User

from . import figures, sheets
from .access import supervisor
from .figures import Figures
from .rounding import half_up


@supervisor
def overview(request):
    data = figures.page_results()
    return render(request, "web/results.html", {
        "results": data, "gap_min": figures.GAP // 60, "lead_in_s": figures.LEAD_IN,
        "time_zone": settings.TIME_ZONE, "refresh_min": figures.REFRESH.seconds // 60,
        "targets": TARGETS})


TARGETS = {"save_ms": figures.SAVE_P50_MAX_MS, "per_hour": figures.COLIS_PER_HOUR_MIN,
           "rate": figures.FAILURE_RATE_MAX * 100, "backend": figures.BACKEND_AVG_MAX_S}


# The export's columns after « Portée » and « Jour ou agent »: (header, the figure of a
# row, the target row's cell, the Figures.met key its « objectif atteint » column follows).
# A figure with a target has the decimals it is judged at (figures.SHOWN_DIGITS), as on the
# page; durations in seconds one decimal, as on the page.
def _pct(value, digits: int):
    return None if value is None else half_up(value * 100, digits)


SHOWN = figures.SHOWN_DIGITS
COLUMNS = (
    (gettext_lazy("Tâches enregistrées"), lambda f: f.saves, None, None),
    (gettext_lazy("Colis"), lambda f: f.colis, None, None),
    (gettext_lazy("Heures actives"), lambda f: half_up(f.active_s / 3600, 3), None, None),
    (gettext_lazy("Colis par heure-agent"),
     lambda f: half_up(f.colis_per_hour, SHOWN["productivity"]),
     figures.COLIS_PER_HOUR_MIN, "productivity"),
    (gettext_lazy("Saisie p50 (ms)"), lambda f: half_up(f.save_p50, SHOWN["save"]),
     figures.SAVE_P50_MAX_MS, "save"),
    (gettext_lazy("Saisie p95 (ms)"), lambda f: half_up(f.save_p95), None, None),
    (gettext_lazy("Saisie à terminé, moyenne (s)"), lambda f: half_up(f.took_avg, 1), None,
     None),
    (gettext_lazy("Saisie à terminé, p95 (s)"), lambda f: half_up(f.took_p95, 1), None, None),
    (gettext_lazy("Traitement serveur, moyenne (s)"),
     lambda f: half_up(f.backend_avg, SHOWN["backend"]), figures.BACKEND_AVG_MAX_S, "backend"),
    (gettext_lazy("Traitement serveur, p95 (s)"), lambda f: half_up(f.backend_p95, 1), None,
     None),
    (gettext_lazy("Photos"), lambda f: f.photos, None, None),
    (gettext_lazy("Photos en échec"), lambda f: f.photos_failed, None, None),
    (gettext_lazy("Échecs photo (%)"), lambda f: _pct(f.photo_failure_rate, SHOWN["photos"] - 2),
     figures.FAILURE_RATE_MAX * 100, "photos"),
    (gettext_lazy("Requêtes de synchronisation"), lambda f: f.requests, None, None),
    (gettext_lazy("Réponses 5xx"), lambda f: f.server_errors, None, None),
    (gettext_lazy("Réponses 5xx (%)"), lambda f: _pct(f.error_rate, SHOWN["errors"] - 2),
     figures.FAILURE_RATE_MAX * 100, "errors"),
    (gettext_lazy("Requêtes refusées"), lambda f: f.refused, None, None),
    (gettext_lazy("Requêtes refusées (%)"), lambda f: _pct(f.refused_rate, 2), None, None),
)


def _columns() -> list[str]:
    header = [_("Portée"), _("Jour ou agent")]
    for name, _read, _target, met in COLUMNS:
        header.append(str(name))
        if met:
            header.append(_("%(figure)s : objectif atteint") % {"figure": name})
    return header


def _met(ok: bool | None) -> str | None:
    """As the page's badge: « atteint », « non atteint », or nothing to judge it by."""
    return None if ok is None else _("atteint") if ok else _("non atteint")


def _row(scope: str, label, f: Figures) -> list:
    met = f.met
    row = [scope, label]
    for _name, read, _target, key in COLUMNS:
        row.append(read(f))
        if key:
            row.append(_met(met[key]))
    return row


def table(data: figures.Results) -> list[list]:
    """The export's rows: the targets, the whole period, each day, each agent."""
    target = [_("Objectif"), ""]
    for _name, _read, value, key in COLUMNS:
        target += [value, None] if key else [value]
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


def mine(user: User) -> Figures | None:
    """The user's row of « Résultats » (the same figures, read the same way), for « Mes
    tâches »; None when they saved nothing in the period."""
    agents = figures.page_results(agent=user).agents
    return agents[0][1] if agents else None
