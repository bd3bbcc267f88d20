from django.db import models
from django.utils import timezone


class Notification(models.Model):
    """One (colis, event) message to the client: the row makes it go out at most once."""

    class Status(models.TextChoices):
        PENDING = "pending", "En attente"
        SENDING = "sending", "En cours d'envoi"
        SENT = "sent", "Envoyée"
        FAILED = "failed", "Échec"

    colis = models.ForeignKey("cargo.Colis", on_delete=models.CASCADE,
                              related_name="notifications")
    event = models.CharField(max_length=40)
    channel = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["colis", "event"],
                                               name="one_notification_per_event")]

    def __str__(self) -> str:
        return f"{self.event} {self.colis_id} ({self.status})"
