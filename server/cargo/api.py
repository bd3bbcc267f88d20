"""Reference data for the offline device: clients, open lots, tariffs; its leased numéros."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from server import codes, inputs
from server.accounts.permissions import CanRegisterColis

from . import leases
from .models import Client, Lot, NumeroLease, Tariff


class ClientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Client
        fields = ["id", "nom", "prenom", "telephone", "email", "ville_destination",
                  "pays_destination", "updated_at"]


class LotSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lot
        fields = ["id", "numero_lot", "type_lot", "statut", "op_id", "created_at", "updated_at"]


class TariffSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tariff
        fields = ["id", "mode", "unit", "rate", "divisor", "minimum", "currency", "round_to",
                  "rounding", "valid_from"]


class ClientList(generics.ListAPIView):
    """Clients, searchable by name or phone (`search`), changed since `updated_since`."""

    serializer_class = ClientSerializer

    def get_queryset(self):
        rows = Client.objects.order_by("id")
        if search := inputs.query_text(self.request.query_params.get("search")):
            rows = rows.filter(Q(nom__icontains=search) | Q(prenom__icontains=search)
                               | Q(telephone__icontains=search))
        if since := self.request.query_params.get("updated_since"):
            rows = rows.filter(updated_at__gt=serializers.DateTimeField().to_internal_value(since))
        return rows


class LotList(generics.ListAPIView):
    """Lots, filtered by `statut` (ouvert, ferme, expedie)."""

    serializer_class = LotSerializer

    def get_queryset(self):
        rows = Lot.objects.order_by("-created_at")
        if statut := self.request.query_params.get("statut"):
            if statut not in Lot.Statut.values:
                raise ValidationError({"statut": [codes.render(codes.error(
                    "choice_invalid_of", choices=", ".join(Lot.Statut.values)))]})
            rows = rows.filter(statut=statut)
        return rows


class TariffList(generics.ListAPIView):
    serializer_class = TariffSerializer
    pagination_class = None
    queryset = Tariff.objects.order_by("mode", "-valid_from")


class LeaseSerializer(serializers.ModelSerializer):
    unused = serializers.IntegerField(read_only=True)

    class Meta:
        model = NumeroLease
        fields = ["id", "year", "first", "last", "first_numero", "last_numero", "unused",
                  "created_at"]


LEASE_LIMIT = _("Trop de blocs de numéros demandés aujourd'hui : la tablette numérote avec "
                "ceux qu'elle a, le serveur numérote les autres colis.")


class LeaseRequestSerializer(serializers.Serializer):
    left = serializers.IntegerField(min_value=0, help_text="Numéros the tablet has left.")


class LeaseAnswerSerializer(serializers.Serializer):
    leases = LeaseSerializer(many=True)
    block = serializers.IntegerField(help_text="The size of this device's next block.")


class LeaseView(APIView):
    """The numéros leased to this tablet (server/cargo/leases.py). GET lists its open leases;
    POST {"left": n}, at the end of each sync cycle with the count it has left, also leases
    a new block when that is low. Either answers {"leases": [...], "block": size}."""

    permission_classes = [IsAuthenticated, CanRegisterColis]

    @extend_schema(responses={200: LeaseAnswerSerializer})
    def get(self, request):
        return self._answer(_device(request))

    @extend_schema(request=LeaseRequestSerializer, responses={200: LeaseAnswerSerializer, 429: dict})
    def post(self, request):
        device = _device(request)
        left = request.data.get("left") if isinstance(request.data, dict) else None
        if isinstance(left, bool) or not isinstance(left, int) or not 0 <= left < 2**31:
            raise ValidationError({"left": [_("Un entier positif ou nul est requis.")]})
        try:
            leases.refill(device, left)
        except leases.LeaseLimit as limit:
            return Response({"detail": str(LEASE_LIMIT), "code": limit.code}, status=429)
        return self._answer(device)

    def _answer(self, device):
        return Response({"leases": LeaseSerializer(leases.open_leases(device), many=True).data,
                         "block": leases.block_size(device)})


def _device(request):
    """The tablet's login; leases are per device, so a session login has none."""
    device = getattr(request, "device", None)
    if device is None:
        raise PermissionDenied(_("Réservé aux tablettes (jeton d'appareil)."))
    return device
