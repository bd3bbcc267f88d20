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


def test_it_fails_a_photo_that_spent_its_attempts(alice, colis_data, redis_clean, settings,
                                                  tmp_path):
    import uuid

    from server.cargo.models import Colis
    from tests.test_photos import make_colis, make_upload

    settings.MEDIA_ROOT = tmp_path
    photo_id = uuid.uuid4()
    colis, _ = make_colis(alice, colis_data, photo_id)
    make_upload(alice, photo_id)
    Colis.objects.filter(pk=colis.pk).update(photo_attempts=settings.PHOTO_MAX_ATTEMPTS)
    summary = sweep(grace=3600)
    assert summary["photos_given_up"] == 1 and summary["photos_requeued"] == 0
    colis.refresh_from_db()
    assert (colis.photo_status, colis.photo_error) == ("failed", "photo_gave_up")
