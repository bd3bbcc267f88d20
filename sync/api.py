"""The sync API: batches in, task states out, retry and cancel, health."""

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from server import codes, inputs, metrics
from server.accounts.permissions import CanRegisterColis
from server.cargo import services
from server.parsers import JSONParser, TooDeep

from . import actions, changes, health
from . import serializers as shapes
from .ingest import ingest_batch, parse_aware
from .models import ACTIVE, ColisTask, Status


def _too_large(detail: str) -> Response:
    return Response({"detail": detail, "max_items": settings.SYNC_MAX_BATCH,
                     "max_bytes": settings.SYNC_MAX_BODY},
                    status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)


class SyncBatchView(APIView):
    """Receive a batch of items from a device; answer one result per item, in order."""

    permission_classes = [IsAuthenticated, CanRegisterColis]
    parser_classes = [JSONParser]

    @extend_schema(request=shapes.BatchSerializer,
                   responses={200: shapes.BatchResultSerializer, 400: shapes.DetailSerializer,
                              413: shapes.DetailSerializer})
    @metrics.timed  # its latency, for /metrics
    def post(self, request):
        if _content_length(request) > settings.SYNC_MAX_BODY:
            return _too_large(_("Corps de requête trop grand (max %(max)s octets).")
                              % {"max": settings.SYNC_MAX_BODY})
        try:
            body = request.data
        except ParseError as exc:
            detail = exc.detail if isinstance(exc, TooDeep) else _("JSON invalide.")
            return Response({"detail": detail}, status=status.HTTP_400_BAD_REQUEST)
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            return Response({"detail": _('Un objet {"items": [...]} est attendu.')},
                            status=status.HTTP_400_BAD_REQUEST)
        if len(items) > settings.SYNC_MAX_BATCH:
            return _too_large(_("Trop d'éléments (max %(max)s par envoi).")
                              % {"max": settings.SYNC_MAX_BATCH})
        _report_outbox(request, body.get("device"))
        results = ingest_batch(request.user, getattr(request, "device", None), items)
        return Response({"items": _answers(results)})


def _content_length(request) -> int:
    raw = request.META.get("CONTENT_LENGTH") or "0"
    return int(raw) if raw.isascii() and raw.isdigit() else 0


def _answers(results) -> list[dict]:
    """Results as JSON, with tasks re-read: a task completed inline (COLIS_ASYNC=0) shows so."""
    task_ids = [r.task.task_id for r in results if r.task is not None]
    fresh = {t.task_id: t for t in ColisTask.objects.select_related("colis", "lot")
             .filter(task_id__in=task_ids)} if not settings.COLIS_ASYNC else {}
    for result in results:
        if result.task is not None and result.task.task_id in fresh:
            result.task = fresh[result.task.task_id]
    return [r.to_dict() for r in results]


def _count(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31 \
        else None


def _report_outbox(request, report) -> bool:
    """Record the tablet's report of its outbox; False when there is none to record."""
    device = getattr(request, "device", None)
    if device is None or not isinstance(report, dict):
        return False
    pending = _count(report.get("outbox_pending"))
    if pending is None:
        return False
    device.report_outbox(pending, parse_aware(report.get("oldest_pending_at")),
                         photos=_count(report.get("photos_pending")))
    return True


class DeviceReportView(APIView):
    """The tablet's heartbeat after every sync cycle, nothing left included: what it still
    holds (items not accepted yet, photos not uploaded yet, the oldest), so /supervision/
    shows « à jour » at zero instead of the count sent beside the last batch."""

    permission_classes = [IsAuthenticated, CanRegisterColis]

    @extend_schema(request=shapes.DeviceReportSerializer, responses={204: None, 400: dict})
    def post(self, request):
        if not _report_outbox(request, request.data):
            return Response({"outbox_pending": [_("Un entier positif ou nul est requis (appareil).")]},
                            status=status.HTTP_400_BAD_REQUEST)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChangesView(APIView):
    """Every task of the caller that changed after `since`, oldest change first."""

    @extend_schema(parameters=[OpenApiParameter("since", str)],
                   responses={200: shapes.ChangesSerializer})
    def get(self, request):
        try:
            since = changes.parse_cursor(request.query_params.get("since"))
        except ValueError:
            return Response({"since": [_("Curseur invalide.")]}, status=status.HTTP_400_BAD_REQUEST)
        rows, cursor, has_more = changes.feed(ColisTask.objects.visible_to(request.user), since,
                                              settings.CHANGES_PAGE)
        return Response({"items": [t.to_dict() for t in rows], "cursor": str(cursor),
                         "has_more": has_more})


@extend_schema(parameters=[OpenApiParameter("status", str), OpenApiParameter("active", str),
                           OpenApiParameter("lot", int), OpenApiParameter("since", str)])
class TaskList(ListAPIView):
    """Tasks, filtered by `status`, `active=1`, `lot` (id) and `since` (updated after)."""

    serializer_class = shapes.TaskSerializer

    def get_queryset(self):
        # pk breaks ties (a batch's tasks may share created_at): no row twice or never
        rows = ColisTask.objects.visible_to(self.request.user).order_by("-created_at", "-pk")
        params = self.request.query_params
        if value := params.get("status"):
            if value not in Status.values:
                raise ValidationError({"status": [f"Choix invalide : {', '.join(Status.values)}."]})
            rows = rows.filter(status=value)
        if params.get("active") == "1":
            rows = rows.filter(status__in=ACTIVE)
        if (lot_id := inputs.row_id(params.get("lot"))) is not None:
            rows = rows.filter(lot_id=lot_id)
        if (value := params.get("since")) and (since := parse_aware(value)):
            rows = rows.filter(updated_at__gt=since)
        return rows

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([t.to_dict() for t in page])


class TaskDetail(APIView):
    @extend_schema(responses={200: shapes.TaskSerializer})
    def get(self, request, task_id):
        task = get_object_or_404(ColisTask.objects.visible_to(request.user), task_id=task_id)
        return Response(task.to_dict())


class TaskRetry(APIView):
    """Retry a failed task, optionally with corrected `data` (checked like a new item)."""

    @extend_schema(request=shapes.RetrySerializer,
                   responses={200: shapes.TaskSerializer, 409: shapes.DetailSerializer})
    def post(self, request, task_id):
        task = get_object_or_404(ColisTask.objects.visible_to(request.user), task_id=task_id)
        data = request.data.get("data") if isinstance(request.data, dict) else None
        if data is not None and not isinstance(data, dict):
            errors = {"data": [codes.error("object_expected")]}
            return Response({"errors": codes.messages_of(errors),
                             "error_codes": codes.codes_of(errors)}, status=400)
        try:
            task = actions.retry_task(task.task_id, request.user, data)
        except actions.NotAllowed as exc:
            return _refused(exc)
        except services.InvalidData as exc:
            return Response({"errors": codes.messages_of(exc.errors),
                             "error_codes": codes.codes_of(exc.errors)},
                            status=status.HTTP_400_BAD_REQUEST)
        return Response(ColisTask.objects.visible_to(request.user).get(pk=task.pk).to_dict())


class TaskCancel(APIView):
    """Cancel a task not started, or failed, optionally saying why: `reason` (a code) and
    `superseded_by` (the op_id of the item that replaces it, e.g. a resolved conflict's)."""

    @extend_schema(request=shapes.CancelSerializer,
                   responses={200: shapes.TaskSerializer, 400: dict, 409: shapes.DetailSerializer})
    def post(self, request, task_id):
        task = get_object_or_404(ColisTask.objects.visible_to(request.user), task_id=task_id)
        body = request.data if isinstance(request.data, dict) else {}
        try:
            task = actions.cancel_task(task.task_id, request.user, body.get("reason"),
                                       body.get("superseded_by"))
        except actions.NotAllowed as exc:
            return _refused(exc)
        except services.InvalidData as exc:
            return Response(codes.messages_of(exc.errors), status=status.HTTP_400_BAD_REQUEST)
        return Response(ColisTask.objects.visible_to(request.user).get(pk=task.pk).to_dict())


def _refused(exc: actions.NotAllowed) -> Response:
    return Response({"detail": exc.message, "code": exc.code}, status=status.HTTP_409_CONFLICT)


class HealthView(APIView):
    """The node that answered (NODE_NAME), database, Redis, queues, workers, oldest pending
    task, the sweeper's last run."""

    permission_classes = []
    authentication_classes = []

    @extend_schema(responses={200: dict, 503: dict})
    def get(self, request):
        report = health.report()
        return Response(report, status=200 if report["ok"] else 503)
