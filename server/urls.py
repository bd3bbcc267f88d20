from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from server.accounts.api import DeviceLoginView
from server.cargo import api as cargo_api

api_v1 = [
    path("auth/device/", DeviceLoginView.as_view(), name="device-login"),
    path("clients/", cargo_api.ClientList.as_view(), name="client-list"),
    path("lots/", cargo_api.LotList.as_view(), name="lot-list"),
    path("tariffs/", cargo_api.TariffList.as_view(), name="tariff-list"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("app/", include("server.pwa_urls")),
    path("django-rq/", include("django_rq.urls")),
    path("api/v1/", include(api_v1)),
    path("api/v1/", include("sync.urls")),
    path("api/v1/", include("sync.tus_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}),
    path("", include("server.web.urls")),
]
