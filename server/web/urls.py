from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from . import board, imports, lots, results, supervision

app_name = "web"


def favicon(request):
    return RedirectView.as_view(url=static("web/favicon.ico"), permanent=True)(request)


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="web:board"), name="home"),
    # Browsers ask every site for /favicon.ico whatever the page says.
    path("favicon.ico", favicon, name="favicon"),
    path("login/", auth_views.LoginView.as_view(
        template_name="web/login.html", next_page="web:board",
        redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="web:login"), name="logout"),
    path("taches/", board.board, name="board"),
    path("taches/changes.json", board.changes_json, name="board-changes"),
    path("taches/<uuid:task_id>/", board.task_detail, name="task"),
    path("taches/<uuid:task_id>/relancer/", board.task_retry, name="task-retry"),
    path("taches/<uuid:task_id>/annuler/", board.task_cancel, name="task-cancel"),
    path("lots/", lots.lot_list, name="lots"),
    path("lots/ouvrir/", lots.lot_open, name="lot-open"),
    path("lots/<int:lot_id>/", lots.lot_detail, name="lot"),
    path("lots/<int:lot_id>/fermer/", lots.lot_close, name="lot-close"),
    path("lots/<int:lot_id>/manifest.csv", lots.manifest, name="lot-manifest"),
    path("lots/<int:lot_id>/manifest.xlsx", lots.manifest_xlsx, name="lot-manifest-xlsx"),
    path("lots/<int:lot_id>/etiquettes/", lots.lot_labels, name="lot-labels"),
    path("colis/<int:colis_id>/etiquette/", lots.colis_label, name="colis-label"),
    path("supervision/", supervision.overview, name="supervision"),
    path("supervision/live/", supervision.fragment, name="supervision-live"),
    path("supervision/relancer/", supervision.bulk_retry, name="bulk-retry"),
    path("supervision/appareils/<int:device_id>/revoquer/", supervision.revoke,
         name="device-revoke"),
    path("supervision/recherche/", supervision.search, name="search"),
    path("supervision/import/", imports.import_outbox, name="import"),
    path("resultats/", results.overview, name="results"),
    path("resultats/resultats.csv", results.export_csv, name="results-csv"),
    path("resultats/resultats.xlsx", results.export_xlsx, name="results-xlsx"),
]
