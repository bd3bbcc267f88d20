"""Hourly counters of the sync requests: how many POST /api/v1/sync/ and how many got a 5xx.

The rollout's failure rate needs the 5xx a device met, which no task records (a batch that
fails leaves no task). One conditional UPDATE per request, or an INSERT the first time in
the hour: no read, no lock held past the statement.
"""

import logging
from collections.abc import Callable

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from .models import SyncRequestCount

log = logging.getLogger(__name__)


def count_sync_request(status_code: int) -> None:
    """Add one request, and one server error if `status_code` is a 5xx, to this hour's row."""
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    error = 1 if status_code >= 500 else 0
    rows = SyncRequestCount.objects.filter(hour=hour)
    if rows.update(total=F("total") + 1, server_errors=F("server_errors") + error):
        return
    try:
        with transaction.atomic():
            SyncRequestCount.objects.create(hour=hour, total=1, server_errors=error)
    except IntegrityError:  # another request made the hour's row first
        rows.update(total=F("total") + 1, server_errors=F("server_errors") + error)


class SyncRequestCounter:
    """Counts every POST to the sync endpoint with its answer's status. Listed first in
    MIDDLEWARE, it sees the 500 Django makes of any exception raised inside."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method == "POST" and request.path == reverse("sync-batch"):
            try:
                count_sync_request(response.status_code)
            except DatabaseError:  # a counter must never fail the answer it counts
                log.warning("sync request not counted", exc_info=True)
        return response
