from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from .models import Device


class DeviceLoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    device_name = serializers.CharField(max_length=80)


class DeviceLoginView(APIView):
    """Log a tablet in: answers its bearer token, shown this once."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(request=DeviceLoginSerializer, responses={201: dict})
    def post(self, request):
        form = DeviceLoginSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        user = authenticate(
            request, username=form.validated_data["username"], password=form.validated_data["password"]
        )
        if user is None:
            return Response({"detail": "Identifiants invalides."}, status=status.HTTP_401_UNAUTHORIZED)
        device, token = Device.issue(user, form.validated_data["device_name"])
        body = {
            "token": token,
            "device_id": device.pk,
            "user": {"id": user.pk, "username": user.username, "role": user.role},
        }
        return Response(body, status=status.HTTP_201_CREATED)
