from django.urls import path

from . import pwa_views

urlpatterns = [
    path("", pwa_views.shell, name="pwa-shell"),
    path("sw.js", pwa_views.service_worker, name="pwa-sw"),
    path("manifest.webmanifest", pwa_views.manifest, name="pwa-manifest"),
    path("jsi18n/", pwa_views.js_catalog, name="pwa-jsi18n"),
    path("<path:path>", pwa_views.asset, name="pwa-asset"),
]
