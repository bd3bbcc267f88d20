"""Routes of the tus upload endpoint, included under api/v1/ by server/urls.py."""

from django.urls import path

from . import tus

urlpatterns = [
    path("uploads/", tus.UploadCreate.as_view(), name="tus-create"),
    path("uploads/<uuid:upload_id>", tus.UploadDetail.as_view(), name="tus-upload"),
]
