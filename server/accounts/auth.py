from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from .models import Device


class DeviceTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <token>` issued to a device by POST /api/v1/auth/device/."""

    keyword = "Token"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("En-tête Token invalide."))
        try:
            token = parts[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(_("En-tête Token invalide.")) from exc
        device = Device.from_token(token)
        if device is None or not device.is_active or not device.user.is_active:
            raise exceptions.AuthenticationFailed(_("Jeton invalide ou révoqué."))
        device.touch()
        request.device = device
        return device.user, device

    def authenticate_header(self, request):
        return self.keyword
