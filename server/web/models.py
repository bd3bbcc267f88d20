from django.conf import settings
from django.db import models
from django.utils import timezone


class ResultDay(models.Model):
    """One day's figures of « Résultats » (server/web/figures.py), for one agent or, with
    agent None, for all of them (with the sync request counters): the page reads 30 days of
    these instead of every task of the month. Percentiles are exact for the row; the
    histograms merge rows into several days' percentiles: `save_ms` (ms → count, exact),
    `took` and `backend` (1 % bucket → count, in ms; on the row for all only)."""

    day = models.DateField()
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True,
                              blank=True, related_name="+")
    saves = models.PositiveIntegerField(default=0)
    colis = models.PositiveIntegerField(default=0)
    active_s = models.FloatField(default=0)
    took_sum = models.FloatField(default=0)
    took_n = models.PositiveIntegerField(default=0)
    backend_sum = models.FloatField(default=0)
    backend_n = models.PositiveIntegerField(default=0)
    photos = models.PositiveIntegerField(default=0)
    photos_failed = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)
    server_errors = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    save_p50 = models.FloatField(null=True, blank=True)
    save_p95 = models.FloatField(null=True, blank=True)
    took_p95 = models.FloatField(null=True, blank=True)
    backend_p95 = models.FloatField(null=True, blank=True)
    histograms = models.JSONField(default=dict, blank=True)
    # When its computation began: what changed after that is seen by the next one.
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["day", "agent"], name="resultday_day_agent")]

    def __str__(self) -> str:
        return f"{self.day} {self.agent_id or 'all'}"


class ResultPeriod(models.Model):
    """Percentiles over the page's days (first_day to last_day), merged from ResultDay's
    histograms: per agent, and with agent None for all (also the mark that the merge was
    done). `basis` names the ResultDay rows it was merged from (figures._basis): merged
    again once the days' rows are others, not on every view."""

    first_day = models.DateField()
    last_day = models.DateField()
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True,
                              blank=True, related_name="+")
    save_p50 = models.FloatField(null=True, blank=True)
    save_p95 = models.FloatField(null=True, blank=True)
    took_p95 = models.FloatField(null=True, blank=True)
    backend_p95 = models.FloatField(null=True, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)  # when: for people, not the rule
    basis = models.CharField(max_length=80, default="", blank=True)

    class Meta:
        indexes = [models.Index(fields=["first_day", "last_day"], name="resultperiod_days")]

    def __str__(self) -> str:
        return f"{self.first_day}–{self.last_day} {self.agent_id or 'all'}"
