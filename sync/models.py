import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from server import codes


class Status(models.TextChoices):
    PENDING = "pending", _("En attente")
    PROCESSING = "processing", _("En traitement")
    IMAGE_UPLOADING = "image_uploading", _("Traitement de la photo")
    PRICE_CALCULATING = "price_calculating", _("Calcul du prix")
    NOTIFICATION_SENDING = "notification_sending", _("Notification du client")
    COMPLETED = "completed", _("Terminé")
    FAILED = "failed", _("Échec")
    FAILED_RETRY = "failed_retry", _("Échec, nouvel essai prévu")
    FAILED_FINAL = "failed_final", _("Échec définitif")
    CANCELLED = "cancelled", _("Annulé")


TERMINAL = frozenset({Status.COMPLETED, Status.FAILED_FINAL, Status.CANCELLED})
RUNNING = frozenset({Status.PROCESSING, Status.IMAGE_UPLOADING, Status.PRICE_CALCULATING,
                     Status.NOTIFICATION_SENDING})
FAILED_STATES = frozenset({Status.FAILED, Status.FAILED_RETRY, Status.FAILED_FINAL})
ACTIVE = frozenset({Status.PENDING, Status.FAILED_RETRY}) | RUNNING


class CancelReason(models.TextChoices):
    """Why a task was cancelled, as the tablet or a person says it."""

    CONFLICT_RESOLVED = "conflict_resolved", _("Conflit résolu")
    AGENT_CANCELLED = "agent_cancelled", _("Annulée par l'agent")
    MOVED_TO_OTHER_LOT = "moved_to_other_lot", _("Déplacé dans un autre lot")
    DUPLICATE = "duplicate", _("Doublon")


class ColisTaskQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ColisTaskQuerySet":
        """The tasks `user` may see: their own, or every task for supervisors."""
        rows = self.select_related("colis", "lot")
        return rows if user.is_supervisor else rows.filter(initiated_by=user)

    def locked(self) -> "ColisTaskQuerySet":
        """These task rows, locked until the transaction ends (FOR NO KEY UPDATE: a foreign
        key check on them still passes). Only the task rows, whatever is joined."""
        return self.select_for_update(of=("self",), no_key=True)


class ColisTask(models.Model):
    """One item a device sent: its payload, its state, and what it produced."""

    class Operation(models.TextChoices):
        CREATE = "create", _("Création")
        UPDATE = "update", _("Modification")

    task_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    op_id = models.UUIDField(unique=True)
    operation = models.CharField(max_length=10, choices=Operation.choices)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PENDING)
    current_step = models.CharField(max_length=120, blank=True)
    progress_percentage = models.PositiveSmallIntegerField(default=0)
    colis_data = models.JSONField(default=dict)
    payload_hash = models.CharField(max_length=64)
    lot = models.ForeignKey("cargo.Lot", on_delete=models.PROTECT, null=True, blank=True,
                            related_name="tasks")
    colis = models.ForeignKey("cargo.Colis", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="tasks")
    initiated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="colis_tasks")
    device = models.ForeignKey("accounts.Device", on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="tasks")
    base_version = models.PositiveIntegerField(null=True, blank=True)
    photo_id = models.UUIDField(null=True, blank=True, db_index=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    errors = models.JSONField(default=dict, blank=True)
    retry_count = models.PositiveSmallIntegerField(default=0)
    max_retries = models.PositiveSmallIntegerField(default=3)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    rq_job_id = models.CharField(max_length=64, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Position in the changes feed: taken under a lock at the end of each writing
    # transaction, so feed order is commit order (see sync/changes.py).
    change_seq = models.PositiveBigIntegerField(default=0, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # When the agent saved the item on the tablet (the device's clock, never in the future).
    saved_at = models.DateTimeField(null=True, blank=True)
    # How long the save took on the tablet, in ms, as the PWA measured it (the rollout's
    # « save time »; None for items sent without it). See server/web/figures.py.
    save_ms = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    cancel_reason = models.CharField(max_length=24, choices=CancelReason.choices, blank=True)
    # The op_id of the item that replaced this one (a resolved conflict's winner). An op_id,
    # not a key: the tablet may send the cancel before the winning item itself.
    superseded_by = models.UUIDField(null=True, blank=True)

    objects = ColisTaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("tâche colis")
        verbose_name_plural = _("tâches colis")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["initiated_by", "change_seq"], name="task_user_seq"),
            models.Index(fields=["status", "next_retry_at"], name="task_status_retry"),
            models.Index(fields=["initiated_by", "status", "created_at"],
                         name="task_user_status"),
            models.Index(fields=["status", "completed_at"], name="task_status_completed"),
            # « Synchronisation » (server/web/queries.py): its rows count the open tasks per
            # agent and device from this index alone, and its failed list reads the newest
            # failures and their agents and lots from the other; a few thousand entries at
            # a million tasks, instead of the table.
            models.Index(fields=["initiated_by", "device", "status", "created_at"],
                         condition=Q(status__in=sorted(ACTIVE | FAILED_STATES)),
                         name="task_open_by_device"),
            models.Index(fields=["-updated_at"], include=["initiated_by", "lot"],
                         condition=Q(status__in=sorted(FAILED_STATES)),
                         name="task_failed_recent"),
            # A lot's page lists its tasks newest first, a page at a time (server/web/lots.py).
            models.Index(fields=["lot", "created_at", "id"], name="task_lot_created"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.op_id} ({self.status})"

    @property
    def saved_or_received_at(self):
        """Start of the save-to-completion time: the tablet's save, else the server's receipt."""
        return self.saved_at or self.created_at

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    def allows(self, action: str) -> bool:
        """Whether a person may `retry`, `retry_with_data` or `cancel` this task now."""
        from .allowed import allows

        return allows(self, action)

    @property
    def allowed_actions(self) -> frozenset:
        """What `allows` accepts, for templates (`{% if "retry" in task.allowed_actions %}`)."""
        from .allowed import actions_for

        return actions_for(self.status, self.error_code)

    def to_dict(self) -> dict:
        """The task as the API shows it (select_related colis and lot to avoid queries)."""
        return {
            "task_id": str(self.task_id),
            "op_id": str(self.op_id),
            "operation": self.operation,
            "status": self.status,
            # Codes for clients that render them (the PWA), and sentences in the request's
            # language for the others (server/codes.py).
            "current_step": codes.step_code(self.current_step),
            "current_step_label": codes.step_label(self.current_step),
            "progress_percentage": self.progress_percentage,
            "error_code": self.error_code,
            "error_message": codes.task_message(self.error_code) if self.error_code in codes.TASK
            else self.error_message,
            "error_detail": self.error_message if self.error_code in codes.TECHNICAL else "",
            "errors": codes.messages_of(self.errors),
            "error_codes": codes.codes_of(self.errors),
            "retry_count": self.retry_count,
            "next_retry_at": self.next_retry_at.isoformat() if self.next_retry_at else None,
            "colis": colis_to_dict(self.colis) if self.colis_id else None,
            "lot": {"id": self.lot_id, "numero_lot": self.lot.numero_lot} if self.lot_id else None,
            "saved_at": self.saved_at.isoformat() if self.saved_at else None,
            "allowed_actions": sorted(self.allowed_actions),
            "cancel_reason": self.cancel_reason,
            "superseded_by": str(self.superseded_by) if self.superseded_by else None,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def colis_to_dict(colis) -> dict:
    from server.photos import photo_url  # server.photos imports the cargo models

    return {
        "id": colis.pk,
        "numero_suivi": colis.numero_suivi,
        "prix_calcule": str(colis.prix_calcule) if colis.prix_calcule is not None else None,
        "devise": colis.devise,
        "version": colis.version,
        "photo": colis.photo_status,
        "photo_error": colis.photo_error,
        "photo_id": str(colis.photo_id) if colis.photo_id else None,
        # A photo later (an update's photo_id) until it replaces the photo above: "none",
        # "awaiting", "processing" or "failed" with its code (see sync/photos.py).
        "photo_next": colis.photo_next_status,
        "photo_next_id": str(colis.photo_next_id) if colis.photo_next_id else None,
        "photo_next_error": colis.photo_next_error,
        "image_url": photo_url(colis, "image"),  # private: a session or the device's token
        "thumbnail_url": photo_url(colis, "thumb"),
        "poids": str(colis.poids),
        "longueur": str(colis.longueur),
        "largeur": str(colis.largeur),
        "hauteur": str(colis.hauteur),
        "mode_paiement": colis.mode_paiement,
        "description": colis.description,
        "client": colis.client_id,
    }


class SyncRequestCount(models.Model):
    """POST /api/v1/sync/ requests of one hour (UTC), how many got a 5xx answer and how many
    were refused (the batch, or one of its items, before it became a task), counted by
    sync.counters.SyncRequestCounter: the rollout's sync failure rate."""

    hour = models.DateTimeField(unique=True)
    total = models.PositiveIntegerField(default=0)
    server_errors = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["hour"]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h: {self.server_errors}+{self.refused}/{self.total}"


class TaskEvent(models.Model):
    """One transition of a task: its history, read from the database, not from Redis."""

    task = models.ForeignKey(ColisTask, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                           blank=True, related_name="+")
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class Upload(models.Model):
    """A resumable (tus) upload of one photo, kept under a server-chosen name."""

    upload_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="uploads")
    photo_id = models.UUIDField(null=True, blank=True, db_index=True)
    op_id = models.UUIDField(null=True, blank=True)
    length = models.PositiveBigIntegerField()
    offset = models.PositiveBigIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    temp_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"upload {self.upload_id} {self.offset}/{self.length}"

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None
