"""The naive baseline: one synchronous form POST that does everything inside the request.

This is how the seed's system registers a colis today, and what every benchmark compares
against: the tablet POSTs the form with the camera's raw photo (3–4 MB) as multipart, and
the view validates it, processes and stores the full photo with Pillow, prices, numbers
and notifies the client before it answers. It uses the real domain functions, so the
comparison is about the design (synchronous, photo on the save path), not about code.
"""

from django import forms
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import AuthenticationFailed

from server.accounts.auth import DeviceTokenAuthentication
from server.cargo import services
from server.cargo.models import Colis
from server.notifications.jobs import notify
from sync import images


class ColisForm(forms.Form):
    client = forms.IntegerField()
    lot = forms.IntegerField()
    poids = forms.DecimalField(max_digits=8, decimal_places=3)
    longueur = forms.DecimalField(max_digits=7, decimal_places=1)
    largeur = forms.DecimalField(max_digits=7, decimal_places=1)
    hauteur = forms.DecimalField(max_digits=7, decimal_places=1)
    mode_paiement = forms.CharField(required=False)
    description = forms.CharField(required=False)
    photo = forms.FileField(required=False)


def _user(request):
    try:
        found = DeviceTokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return None
    return found[0] if found else (request.user if request.user.is_authenticated else None)


@csrf_exempt
def colis_form(request):
    """Register a colis and its photo inside the request; answer with its tracking number."""
    user = _user(request)
    if user is None or not user.can_register_colis:
        return HttpResponseForbidden("login required")
    form = ColisForm(request.POST, request.FILES)
    if not form.is_valid():
        return HttpResponse(form.errors.as_text(), status=400)
    data = {k: str(v) for k, v in form.cleaned_data.items() if k != "photo" and v is not None}
    photo = form.cleaned_data.get("photo")
    try:
        colis = _register(user, data, photo.read() if photo else None)
    except (services.DomainError, images.PhotoRejected) as exc:
        return HttpResponse(str(exc), status=400)
    notify(colis.pk, "colis_registered")
    return HttpResponse(f"<p>Colis enregistré : {colis.numero_suivi} — {colis.prix_calcule}</p>")


@transaction.atomic
def _register(user, data: dict, raw: bytes | None) -> Colis:
    colis = services.create_colis(user, data)
    if raw is not None:
        processed = images.process(raw)
        name = f"baseline/{colis.pk}"
        default_storage.save(f"{name}-original.jpg", ContentFile(raw))
        colis.image = default_storage.save(f"{name}.jpg", ContentFile(processed.image))
        colis.thumbnail = default_storage.save(f"{name}-thumb.jpg",
                                               ContentFile(processed.thumbnail))
        colis.photo_status = Colis.Photo.READY
        colis.save(update_fields=["image", "thumbnail", "photo_status", "updated_at"])
    return colis
