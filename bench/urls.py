"""The project's URLs plus the naive baseline's form view (bench only)."""

from django.urls import path

from server.urls import urlpatterns as project_urls

from . import baseline

urlpatterns = [
    path("baseline/colis/", baseline.colis_form, name="baseline-colis"),
    *project_urls,
]
