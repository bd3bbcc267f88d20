from django.urls import path

from . import guides

app_name = "guides"

urlpatterns = [
    path("agents/", guides.guide, {"slug": "agents"}, name="agents"),
    path("superviseurs/", guides.guide, {"slug": "superviseurs"}, name="superviseurs"),
    path("screenshots/<str:name>", guides.screenshot, name="screenshot"),
]
