import logging

from django.db.models import F
from django.utils import timezone

from server.cargo.models import Colis

from .channels import CHANNELS, message_for
from .models import Notification

log = logging.getLogger(__name__)


def notify(colis_id: int, event: str) -> str:
    """Tell the client about `event` on a colis, at most once per (colis, event)."""
    from django.conf import settings

    colis = Colis.objects.select_related("client", "lot").filter(pk=colis_id).first()
    if colis is None:
        return "no colis"
    channels = ",".join(settings.NOTIFY_CHANNELS)
    row, _ = Notification.objects.get_or_create(colis=colis, event=event,
                                                defaults={"channel": channels})
    claimed = Notification.objects.filter(
        pk=row.pk, status__in=[Notification.Status.PENDING, Notification.Status.FAILED],
    ).update(status=Notification.Status.SENDING, attempts=F("attempts") + 1)
    if not claimed:  # sent, or being sent by another run: at most once
        return "skipped"
    payload = message_for(colis, event)
    try:
        for name in settings.NOTIFY_CHANNELS:
            CHANNELS[name](colis, event, payload)
    except Exception as exc:
        Notification.objects.filter(pk=row.pk).update(status=Notification.Status.FAILED,
                                                      error=repr(exc)[:1000])
        raise  # RQ retries it on its own queue; the colis task is already complete
    Notification.objects.filter(pk=row.pk).update(status=Notification.Status.SENT,
                                                  sent_at=timezone.now(), error="")
    return "sent"
