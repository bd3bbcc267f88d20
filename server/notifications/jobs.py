import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from server.cargo.models import Colis

from .channels import CHANNELS, message_for
from .models import Notification

log = logging.getLogger(__name__)


def notify(colis_id: int, event: str) -> str:
    """Tell the client about `event` on a colis, at most once per (colis, event)."""
    done = notify_many([colis_id], event)
    return "no colis" if done["missing"] else "sent" if done["sent"] else "skipped"


def notify_many(colis_ids: list[int], event: str) -> dict:
    """`notify` for many colis: their rows made and claimed with one statement each, then
    each message sent. A failure is kept on its row and raised once the others went out: RQ
    retries the job, and the rows sent already are skipped then (at most once per row)."""
    colis = Colis.objects.select_related("client", "lot").in_bulk(colis_ids)
    channels = ",".join(settings.NOTIFY_CHANNELS)
    Notification.objects.bulk_create([Notification(colis_id=pk, event=event, channel=channels)
                                      for pk in colis], ignore_conflicts=True)
    with transaction.atomic():  # the claim: another run waits, then finds them taken
        rows = dict(Notification.objects.select_for_update()
                    .filter(colis_id__in=list(colis), event=event,
                            status__in=[Notification.Status.PENDING, Notification.Status.FAILED])
                    .values_list("pk", "colis_id"))
        Notification.objects.filter(pk__in=list(rows)).update(
            status=Notification.Status.SENDING, attempts=F("attempts") + 1)
    sent, failed = [], None
    for pk, colis_id in rows.items():
        try:
            payload = message_for(colis[colis_id], event)
            for name in settings.NOTIFY_CHANNELS:
                CHANNELS[name](colis[colis_id], event, payload)
        except Exception as exc:  # noqa: BLE001 - recorded, raised below
            Notification.objects.filter(pk=pk).update(status=Notification.Status.FAILED,
                                                      error=repr(exc)[:1000])
            failed = failed or exc
            continue
        sent.append(pk)
    Notification.objects.filter(pk__in=sent).update(status=Notification.Status.SENT,
                                                    sent_at=timezone.now(), error="")
    if failed is not None:
        raise failed  # RQ retries it on its own queue; the colis tasks are already complete
    return {"sent": len(sent), "skipped": len(colis) - len(rows),
            "missing": len(set(colis_ids) - set(colis))}
