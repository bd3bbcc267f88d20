"""Private photos: a colis' image and thumbnail, served only to who may see the colis.

Nothing under MEDIA_ROOT is served as such (there is no /media/ route). A photo is asked
for by its colis, `/photos/<colis_id>/image` or `/thumb`, with a page session or a device
token; `visible_colis` says who sees which colis: the same rule as the colis pages (lots
and their colis are shared by everyone logged in, see the README's Security section).
`send_file` alone decides how the bytes leave.
"""

from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import patch_cache_control
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from server.cargo.models import Colis

KINDS = {"image": "image", "thumb": "thumbnail"}  # URL word: Colis field
MAX_AGE = 3600  # a browser keeps a photo this long; its URL changes with the colis (?v=)


def visible_colis(user):
    """The colis `user` may see: every one, for anyone logged in (as on the lot pages)."""
    return Colis.objects.all() if user.is_authenticated else Colis.objects.none()


def photo_url(colis, kind: str) -> str | None:
    """The URL of a colis' photo (`image` or `thumb`), or None when it has none."""
    if not getattr(colis, KINDS[kind]).name:
        return None
    return f"{reverse(f'photo-{kind}', args=[colis.pk])}?v={int(colis.updated_at.timestamp())}"


def send_file(storage: Storage, name: str, content_type: str) -> HttpResponse:
    """How a private file leaves: a 302 to its URL when it lives in object storage (whose
    url() is signed and valid PHOTO_URL_EXPIRES seconds: settings.s3_storages; the bucket
    itself answers no one without a signature), else through nginx (PHOTOS_X_ACCEL), else
    read here through the storage."""
    if not isinstance(storage, FileSystemStorage):
        return HttpResponseRedirect(storage.url(name))
    if settings.PHOTOS_X_ACCEL:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.PHOTOS_X_ACCEL.rstrip("/") + "/" + quote(name)
        return response
    try:
        return FileResponse(storage.open(name, "rb"), content_type=content_type)
    except FileNotFoundError as exc:
        raise Http404 from exc


class PhotoView(APIView):
    """GET a colis' image or thumbnail: 401 without a login, 404 for a colis not seen."""

    kind = "image"

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)  # <img> asks image/*

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY, 302: None, 404: None})
    def get(self, request, colis_id: int):
        colis = get_object_or_404(visible_colis(request.user), pk=colis_id)
        name = getattr(colis, KINDS[self.kind]).name
        if not name:
            raise Http404
        response = send_file(default_storage, name, "image/jpeg")
        # A redirect is kept no longer than half its signed URL's life, so it never leads
        # a browser to an expired one.
        max_age = settings.PHOTO_URL_EXPIRES // 2 if response.status_code == 302 else MAX_AGE
        patch_cache_control(response, private=True, max_age=max_age)
        return response
