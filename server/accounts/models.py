import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    class Role(models.TextChoices):
        AGENT_CHINE = "agent_chine", _("Agent Chine")
        SUPERVISOR = "supervisor", _("Superviseur")
        ADMIN = "admin", _("Administrateur")

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT_CHINE)
    warehouse = models.CharField(_("entrepôt"), max_length=60, blank=True)

    @property
    def is_supervisor(self) -> bool:
        """Supervisors and admins see every agent's work."""
        return self.is_superuser or self.role in (self.Role.SUPERVISOR, self.Role.ADMIN)

    @property
    def can_register_colis(self) -> bool:
        """Agents register colis; admins may stand in. Supervisors only watch and act on tasks."""
        return self.role in (self.Role.AGENT_CHINE, self.Role.ADMIN) or self.is_superuser

    @property
    def can_manage_queues(self) -> bool:
        """The RQ pages (empty a queue, read job tracebacks): staff admins only, not supervisors."""
        return self.is_active and self.is_staff and (self.is_superuser or self.role == self.Role.ADMIN)

    def save(self, *args, **kwargs):
        # set_password() leaves the new password in _password until the save; Django clears it
        # for a mere hash upgrade at login, so this is a real change: every tablet logs in again.
        changed = self._password is not None and self.pk is not None
        super().save(*args, **kwargs)
        if changed:
            Device.objects.filter(user=self).revoke()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class DeviceQuerySet(models.QuerySet):
    def revoke(self) -> int:
        """Revoke every token of these devices not revoked yet, and void their leased numéros;
        return how many."""
        from server.cargo import leases  # cargo builds on accounts

        leases.void(self)
        return self.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


class Device(models.Model):
    """One tablet login. Its bearer token is shown once and stored only as a hash.

    A token ends when revoked (logout, a supervisor, a password change) or when
    unused for TOKEN_IDLE_DAYS.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices")
    name = models.CharField(_("nom de l'appareil"), max_length=80)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(max_length=8, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # What the tablet last said about its own outbox (beside each batch, and after every
    # sync cycle, zero included: see sync/api.py DeviceReportView).
    outbox_pending = models.PositiveIntegerField(null=True, blank=True)
    outbox_photos = models.PositiveIntegerField(null=True, blank=True)
    oldest_pending_at = models.DateTimeField(null=True, blank=True)
    outbox_reported_at = models.DateTimeField(null=True, blank=True)

    objects = DeviceQuerySet.as_manager()

    class Meta:
        verbose_name = _("appareil")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"

    @classmethod
    def issue(cls, user, name: str) -> tuple["Device", str]:
        """Create a device for `user` and return it with its token (the only time it is seen)."""
        token = secrets.token_urlsafe(32)
        device = cls.objects.create(
            user=user, name=name, token_hash=hash_token(token), token_prefix=token[:8]
        )
        return device, token

    @classmethod
    def from_token(cls, token: str) -> "Device | None":
        return cls.objects.select_related("user").filter(token_hash=hash_token(token)).first()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        """Unused for TOKEN_IDLE_DAYS (since its last contact, or its login if none)."""
        idle = timezone.now() - (self.last_seen_at or self.created_at)
        return idle >= timedelta(days=settings.TOKEN_IDLE_DAYS)

    @property
    def is_active(self) -> bool:
        return not self.is_revoked and not self.is_expired

    def revoke(self) -> None:
        """End this login's token; its unused leased numéros are voided with it."""
        from server.cargo import leases  # cargo builds on accounts

        leases.void([self])
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    def touch(self) -> None:
        """Record contact, at most once per DEVICE_SEEN_EVERY seconds (no write per request)."""
        now = timezone.now()
        every = settings.DEVICE_SEEN_EVERY
        if self.last_seen_at is None or (now - self.last_seen_at).total_seconds() >= every:
            Device.objects.filter(pk=self.pk).update(last_seen_at=now)
            self.last_seen_at = now

    def report_outbox(self, pending: int, oldest_pending_at, photos: int | None = None) -> None:
        """Record the tablet's own count of what it still holds (0 and None: all sent)."""
        now = timezone.now()
        fields = {"outbox_pending": pending, "oldest_pending_at": oldest_pending_at,
                  "outbox_reported_at": now, "last_seen_at": now}
        if photos is not None:
            fields["outbox_photos"] = photos
        Device.objects.filter(pk=self.pk).update(**fields)
        for name, value in fields.items():
            setattr(self, name, value)

    @property
    def is_up_to_date(self) -> bool:
        """The tablet said it holds nothing more to send (items or photos)."""
        return self.outbox_pending == 0 and not self.outbox_photos
