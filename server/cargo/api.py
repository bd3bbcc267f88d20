"""Reference data for the offline device: clients, open lots, tariffs."""

from django.db.models import Q
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError

from server import inputs

from .models import Client, Lot, Tariff


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
                raise ValidationError({"statut": [f"Choix invalide : {', '.join(Lot.Statut.values)}."]})
            rows = rows.filter(statut=statut)
        return rows


class TariffList(generics.ListAPIView):
    serializer_class = TariffSerializer
    pagination_class = None
    queryset = Tariff.objects.order_by("mode", "-valid_from")
