"""Hourly counters of the sync requests: how many POST /api/v1/sync/, how many got a 5xx, and
how many were refused. Only a tablet let in counts (`let_in`): a 401 or 403 is no sync.

The rollout's failure rate needs the failures a device met, which no task records: a batch
that fails leaves no task, and neither does an item the server refuses (answered `invalid`
or `conflict` with field errors, or a whole batch answered 400 or 413). A request is a
server error (5xx) or refused (below 500, some of it refused), never both. One conditional
UPDATE per request, or an INSERT the first time in the hour: no read, no lock held past the
statement.
"""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Sum
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from .models import SyncRequestCount

log = logging.getLogger(__name__)
REFUSED_BATCH = (400, 413)  # a body that is not a batch, or one too large
REFUSED_ITEM = ("invalid", "conflict")  # an item's result that made no task


def is_refused(response: HttpResponse) -> bool:
    """The answer refused the batch, or one of its items, without a server error."""
    if response.status_code in REFUSED_BATCH:
        return True
    data = getattr(response, "data", None)  # the DRF Response's, as the view made it
    items = data.get("items") if isinstance(data, dict) else None
    return isinstance(items, list) and any(
        isinstance(i, dict) and i.get("result") in REFUSED_ITEM for i in items)


def count_sync_request(status_code: int, refused: bool = False) -> None:
    """Add one request to this hour's row, and one server error if `status_code` is a 5xx,
    else one refused request if `refused`."""
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    error = 1 if status_code >= 500 else 0
    refusal = 1 if refused and not error else 0
    rows = SyncRequestCount.objects.filter(hour=hour)
    added = {"total": F("total") + 1, "server_errors": F("server_errors") + error,
             "refused": F("refused") + refusal}
    if rows.update(**added):
        return
    try:
        with transaction.atomic():
            SyncRequestCount.objects.create(hour=hour, total=1, server_errors=error,
                                            refused=refusal)
    except IntegrityError:  # another request made the hour's row first
        rows.update(**added)


def last_day(now=None) -> dict[str, int]:
    """The last 24 hourly rows' requests, server errors and refused requests, summed."""
    hour = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    sums = SyncRequestCount.objects.filter(hour__gt=hour - timedelta(hours=24)).aggregate(
        requests=Sum("total"), server_errors=Sum("server_errors"), refused=Sum("refused"))
    return {name: value or 0 for name, value in sums.items()}


def let_in(request: HttpRequest, response: HttpResponse) -> bool:
    """A tablet's sync, to count: an authenticated request not refused at the door (401,
    403); anyone may post thousands of those, which would dilute the 5xx rate. A 5xx counts
    whoever asked: the server failed before it could tell (an exception in authentication)."""
    if response.status_code in (401, 403):
        return False
    user = getattr(request, "user", None)  # DRF sets it on the request once authenticated
    return response.status_code >= 500 or bool(user and user.is_authenticated)


class SyncRequestCounter:
    """Counts every POST to the sync endpoint let in with its answer's status. Listed first in
    MIDDLEWARE, it sees the 500 Django makes of any exception raised inside."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (request.method == "POST" and request.path == reverse("sync-batch")
                and let_in(request, response)):
            try:
                count_sync_request(response.status_code, is_refused(response))
            except DatabaseError:  # a counter must never fail the answer it counts
                log.warning("sync request not counted", exc_info=True)
        return response
