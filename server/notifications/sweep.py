"""Notifications the queue forgot: Redis lost the job, or was down when it was due.

Only colis with no Notification row at all are concerned: once the job has run, RQ's
own retries handle a failed send, and a send that may have happened is not repeated.
"""

from datetime import timedelta

from django.db.models import Exists, OuterRef

from server.cargo.models import Colis

from .models import Notification

REGISTERED = "colis_registered"


def forgotten(now, grace: int, window=timedelta(days=1)) -> list[int]:
    """Colis registered in the last day, `grace` s ago or more, with no notification row."""
    row = Notification.objects.filter(colis=OuterRef("pk"), event=REGISTERED)
    return list(Colis.objects.filter(created_at__gte=now - window,
                                     created_at__lte=now - timedelta(seconds=grace))
                .exclude(Exists(row)).values_list("pk", flat=True)[:1000])
