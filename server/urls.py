from functools import wraps

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404
from django.urls import URLPattern, include, path
from django_rq import urls as rq_urls
from django_rq.models import Dashboard
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rq.exceptions import NoSuchJobError

from server import metrics
from server.accounts.api import DeviceLoginView, DeviceLogoutView
from server.cargo import api as cargo_api
from server.photos import PhotoView
from server.web.access import queue_admin

api_v1 = [
    path("auth/device/", DeviceLoginView.as_view(), name="device-login"),
    path("auth/logout/", DeviceLogoutView.as_view(), name="device-logout"),
    path("clients/", cargo_api.ClientList.as_view(), name="client-list"),
    path("lots/", cargo_api.LotList.as_view(), name="lot-list"),
    path("tariffs/", cargo_api.TariffList.as_view(), name="tariff-list"),
]


def rq_missing(view):
    """A job gone since the list was drawn, or the scheduler pages without rq-scheduler:
    404, not django-rq's 500."""
    @wraps(view)
    def answer(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (NoSuchJobError, ImproperlyConfigured) as exc:
            raise Http404 from exc

    return answer


# Every RQ page, its JSON stats included, behind the admins-only check.
rq_pages = [URLPattern(p.pattern, queue_admin(rq_missing(p.callback)), p.default_args, p.name)
            for p in rq_urls.urlpatterns]
# django-rq also puts every RQ page in the admin (/admin/django_rq/), where any staff user
# (a staff supervisor) would empty queues: they live at /django-rq/ alone, for admins.
if admin.site.is_registered(Dashboard):
    admin.site.unregister(Dashboard)

# The API docs: their script from a URL (the split view), their small <style> block allowed.
swagger_ui = csp_update({"style-src": [UNSAFE_INLINE]})(
    SpectacularSwaggerSplitView.as_view(url_name="schema"))

urlpatterns = [
    path("admin/", admin.site.urls),
    path("app/", include("server.pwa_urls")),
    path("django-rq/", include((rq_pages, "django_rq"))),
    path("api/v1/", include(api_v1)),
    path("api/v1/", include("sync.urls")),
    path("api/v1/", include("sync.tus_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", swagger_ui, name="swagger-ui"),
    path("i18n/", include("django.conf.urls.i18n")),
    # The user guides (docs/guide-*.md) and their screenshots: open to all, as the app's login.
    path("aide/", include("server.web.guide_urls")),
    # Photos are private (server/photos.py); nothing under MEDIA_ROOT is served as such.
    path("photos/<int:colis_id>/image", PhotoView.as_view(kind="image"), name="photo-image"),
    path("photos/<int:colis_id>/thumb", PhotoView.as_view(kind="thumb"), name="photo-thumb"),
    path("metrics", metrics.metrics, name="metrics"),  # Prometheus, METRICS_TOKEN only
    path("", include("server.web.urls")),
]
