"""Shapes of the sync API for the OpenAPI schema. The views answer with
`ColisTask.to_dict()` (the hot path); tests keep the two in step."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import serializers

from .allowed import ACTIONS
from .models import CancelReason, ColisTask, Status


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    target_class = "server.accounts.auth.DeviceTokenAuthentication"
    name = "deviceToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Token <token>` from POST /api/v1/auth/device/"}


class ColisBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    numero_suivi = serializers.CharField()
    prix_calcule = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    devise = serializers.CharField()
    version = serializers.IntegerField()
    photo = serializers.ChoiceField(["none", "awaiting", "processing", "ready", "failed"])
    photo_error = serializers.CharField()
    image_url = serializers.CharField(allow_null=True)
    thumbnail_url = serializers.CharField(allow_null=True)


class LotBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    numero_lot = serializers.CharField()


class TaskSerializer(serializers.Serializer):
    task_id = serializers.UUIDField()
    op_id = serializers.UUIDField()
    operation = serializers.ChoiceField(ColisTask.Operation.choices)
    status = serializers.ChoiceField(Status.choices)
    current_step = serializers.CharField(help_text="the step's code (its status)")
    current_step_label = serializers.CharField(help_text="the step, in the request's language")
    progress_percentage = serializers.IntegerField()
    error_code = serializers.CharField()
    error_message = serializers.CharField(help_text="error_code, in the request's language")
    error_detail = serializers.CharField(help_text="technical detail of a server error")
    errors = serializers.DictField(help_text="field → sentences in the request's language")
    error_codes = serializers.DictField(help_text='field → [{"code", "params"}]')
    retry_count = serializers.IntegerField()
    next_retry_at = serializers.DateTimeField(allow_null=True)
    colis = ColisBriefSerializer(allow_null=True)
    lot = LotBriefSerializer(allow_null=True)
    saved_at = serializers.DateTimeField(allow_null=True)
    allowed_actions = serializers.ListField(child=serializers.ChoiceField(ACTIONS),
                                            help_text="what the caller may ask for now")
    cancel_reason = serializers.CharField(help_text="a CancelReason code, or empty")
    superseded_by = serializers.UUIDField(allow_null=True,
                                          help_text="op_id of the item that replaced it")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ItemSerializer(serializers.Serializer):
    op_id = serializers.UUIDField()
    op = serializers.ChoiceField(["create", "update", "open_lot"])
    data = serializers.DictField(help_text="create: client, lot | lot_op_id, poids, longueur, "
                                 "largeur, hauteur, mode_paiement, description, photo_id; "
                                 "update: colis, base_version, changed fields; "
                                 "open_lot: type_lot")
    saved_at = serializers.DateTimeField(required=False,
                                         help_text="when the agent saved it on the tablet")


class DeviceReportSerializer(serializers.Serializer):
    outbox_pending = serializers.IntegerField(min_value=0, help_text="items not accepted yet")
    photos_pending = serializers.IntegerField(min_value=0, required=False,
                                              help_text="photos not uploaded yet")
    oldest_pending_at = serializers.DateTimeField(allow_null=True)


class BatchSerializer(serializers.Serializer):
    items = ItemSerializer(many=True)
    device = DeviceReportSerializer(required=False)


class ItemResultSerializer(serializers.Serializer):
    op_id = serializers.CharField()
    result = serializers.ChoiceField(["accepted", "duplicate", "invalid", "conflict"])
    task = TaskSerializer(allow_null=True)
    errors = serializers.DictField(help_text="field → sentences in the request's language")
    error_codes = serializers.DictField(help_text='field → [{"code", "params"}]')
    lot = LotBriefSerializer(required=False)


class BatchResultSerializer(serializers.Serializer):
    items = ItemResultSerializer(many=True)


class ChangesSerializer(serializers.Serializer):
    items = TaskSerializer(many=True)
    cursor = serializers.CharField()
    has_more = serializers.BooleanField()


class RetrySerializer(serializers.Serializer):
    data = serializers.DictField(required=False, help_text="corrected fields")


class CancelSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(CancelReason.choices, required=False)
    superseded_by = serializers.UUIDField(required=False, allow_null=True,
                                          help_text="op_id of the item that replaces this one")


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False, help_text="why, for a 409 refusal")
