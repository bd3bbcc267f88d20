"""The dashboards' aggregation queries: percentiles and the hourly chart."""

from datetime import timedelta

from django.utils import timezone

from server.web import charts, queries
from sync.models import ColisTask, Status
from tests.web_helpers import send


def test_it_interpolates_percentiles():
    assert queries.percentile([], 50) is None
    assert queries.percentile([10], 95) == 10
    assert queries.percentile([1, 2, 3, 4], 50) == 2.5
    assert queries.percentile(list(range(1, 101)), 95) == 95.05


def test_it_buckets_the_last_24_hours(alice, colis_data):
    now = timezone.now()
    tasks = send(alice, colis_data, n=4)
    for task, (age_h, took_s) in zip(tasks, [(0, 30), (0, 90), (3, 600), (30, 5)], strict=True):
        done = now - timedelta(hours=age_h)
        ColisTask.objects.filter(pk=task.pk).update(
            status=Status.COMPLETED, completed_at=done, created_at=done - timedelta(seconds=took_s))
    buckets = queries.hourly_chart(now)
    assert len(buckets) == 24
    assert (buckets[-1]["completed"], buckets[-1]["median"]) == (2, 60)
    assert buckets[-1]["p95"] == 87
    assert buckets[-4]["completed"] == 1 and buckets[-4]["median"] == 600
    assert sum(b["received"] for b in buckets) == 3  # the one from 30 h ago is out
    svg = str(charts.hourly_svg(buckets, "24 h"))
    assert svg.count('class="bar-completed"') == 24 and "line-median" in svg
