from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from server import inputs

from .auth import DeviceTokenAuthentication
from .models import Device
from .throttles import LoginRateThrottle, lockout_response


def storable(value: str) -> str:
    """Refuse text the database cannot hold or compare (a lone surrogate; NUL DRF refuses)."""
    if inputs.unstorable(value):
        raise serializers.ValidationError("Caractère invalide (caractère nul ou non Unicode).")
    return value


class DeviceLoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, validators=[storable])
    password = serializers.CharField(max_length=128, trim_whitespace=False, validators=[storable])
    device_name = serializers.CharField(max_length=80, validators=[storable])


class DeviceLoginView(APIView):
    """Log a tablet in: answers its bearer token, shown this once.

    Two limits: LOGIN_THROTTLE requests per client address, and django-axes'
    failed passwords per address and per username (429 once locked out).
    """

    authentication_classes = []
    permission_classes = []
    throttle_classes = [LoginRateThrottle]

    @extend_schema(request=DeviceLoginSerializer, responses={201: dict})
    def post(self, request):
        form = DeviceLoginSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        # axes reads and flags the Django request, which its middleware then sees.
        user = authenticate(request._request, username=form.validated_data["username"],
                            password=form.validated_data["password"])
        if getattr(request._request, "axes_locked_out", False):
            return lockout_response(request._request)
        if user is None:
            return Response({"detail": "Identifiants invalides."}, status=status.HTTP_401_UNAUTHORIZED)
        device, token = Device.issue(user, form.validated_data["device_name"])
        body = {
            "token": token,
            "device_id": device.pk,
            "user": {"id": user.pk, "username": user.username, "role": user.role},
        }
        return Response(body, status=status.HTTP_201_CREATED)


class DeviceLogoutView(APIView):
    """Log a tablet out: its token is revoked for good (the tablet keeps its data)."""

    authentication_classes = [DeviceTokenAuthentication]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        request.device.revoke()
        return Response(status=status.HTTP_204_NO_CONTENT)
