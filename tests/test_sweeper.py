from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from sync import health
from sync.models import ColisTask, Status
from sync.sweeper import sweep
from tests.conftest import item


def test_it_logs_an_alert_past_the_thresholds(alice_api, colis_data, redis_clean, settings,
                                              caplog):
    alice_api.post("/api/v1/sync/", {"items": [item(**colis_data) for _ in range(2)]},
                   format="json")
    ColisTask.objects.update(created_at=timezone.now() - timedelta(hours=2))
    settings.ALERT_PENDING_AGE = 600
    settings.ALERT_FAILED_FINAL = 1
    ColisTask.objects.filter(pk=ColisTask.objects.first().pk).update(status=Status.FAILED_FINAL)
    with caplog.at_level("WARNING", logger="colis.sweeper"):
        summary = sweep(grace=3600)
    assert len(summary["alerts"]) == 2
    assert sum("ALERT" in r.message for r in caplog.records) == 2


def test_it_records_its_last_run_for_the_health_report(db, redis_clean, capsys):
    call_command("monitor_sync", "--once")
    assert "requeued" in capsys.readouterr().out
    assert health.report()["sweeper"]["at"]


def test_it_leaves_running_tasks_with_a_fresh_heartbeat(alice_api, colis_data, redis_clean):
    alice_api.post("/api/v1/sync/", {"items": [item(**colis_data)]}, format="json")
    ColisTask.objects.update(status=Status.PROCESSING, heartbeat_at=timezone.now())
    assert sweep(grace=0)["stuck"] == 0
    assert ColisTask.objects.get().status == Status.PROCESSING
