"""The materialise job with real rqworker processes on a real Redis."""

import os
import signal
import time

import pytest

from server.cargo import services
from server.cargo.models import Colis, Lot
from server.notifications.models import Notification
from sync.models import ColisTask, Status
from sync.sweeper import sweep
from tests.conftest import item
from tests.workers import flush_redis, run_burst, start_worker, stop, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def send(api, items):
    response = api.post("/api/v1/sync/", {"items": items}, format="json")
    assert response.status_code == 200
    return response.json()["items"]


def statuses():
    return sorted(ColisTask.objects.values_list("status", flat=True))


def test_it_completes_each_task_once_with_a_worker(alice_api, colis_data, tariffs, redis_clean):
    send(alice_api, [item(**colis_data) for _ in range(5)])
    run_burst()
    assert statuses() == ["completed"] * 5
    assert Colis.objects.count() == 5
    assert Notification.objects.filter(status="sent").count() == 5
    task = ColisTask.objects.first()
    steps = list(task.events.values_list("to_status", flat=True))
    assert steps == ["pending", "processing", "price_calculating", "notification_sending",
                     "completed"]


def test_it_makes_one_colis_when_the_job_runs_twice(alice_api, colis_data, tariffs, redis_clean):
    from sync.jobs import materialise

    task_id = send(alice_api, [item(**colis_data)])[0]["task"]["task_id"]
    run_burst()
    assert materialise(task_id) == "skipped"
    assert Colis.objects.count() == 1


def test_it_fails_final_when_the_lot_closed_and_completes_on_retry_with_another_lot(
        alice, alice_api, colis_data, tariffs, cargo_lot, redis_clean):
    task_id = send(alice_api, [item(**colis_data)])[0]["task"]["task_id"]
    # services.close_lot refuses while the task is active: only a write around it closes it
    Lot.objects.filter(pk=cargo_lot.pk).update(statut=Lot.Statut.FERME)
    run_burst()
    task = ColisTask.objects.get(task_id=task_id)
    assert task.status == Status.FAILED_FINAL and task.error_code == "lot_closed"
    assert task.retry_count == 0 and Colis.objects.count() == 0
    other = services.open_lot(alice, "cargo")
    response = alice_api.post(f"/api/v1/tasks/{task_id}/retry/", {"data": {"lot": other.pk}},
                              format="json")
    assert response.status_code == 200 and response.json()["status"] == "pending"
    run_burst()
    task.refresh_from_db()
    assert task.status == Status.COMPLETED and task.colis.lot == other


def test_it_recovers_a_task_whose_worker_was_killed_mid_job(alice_api, colis_data, tariffs,
                                                            redis_clean):
    """SIGKILL the worker while the job sleeps inside a step; the sweeper finishes it once."""
    task_id = send(alice_api, [item(**colis_data)])[0]["task"]["task_id"]
    worker = start_worker("colis", FAULT_DRILL_STEP_DELAY="30")
    try:
        wait_for(lambda: ColisTask.objects.get(task_id=task_id).status != Status.PENDING)
        time.sleep(0.5)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    finally:
        stop(worker)
    task = ColisTask.objects.get(task_id=task_id)
    assert task.status in (Status.PROCESSING, Status.PRICE_CALCULATING)
    assert Colis.objects.count() == 0
    assert sweep(stuck_after=0)["stuck"] == 1
    run_burst()
    task.refresh_from_db()
    assert task.status == Status.COMPLETED
    assert Colis.objects.count() == 1
    assert "resumed" in task.events.values_list("message", flat=True)


def test_it_completes_every_task_after_redis_lost_its_data(alice_api, colis_data, tariffs,
                                                           redis_clean):
    send(alice_api, [item(**colis_data) for _ in range(4)])
    flush_redis()  # Redis restarted empty: the jobs are gone, the tasks are not
    run_burst()
    assert statuses() == ["pending"] * 4
    assert sweep(grace=0)["requeued"] == 4
    assert sweep(grace=0)["requeued"] == 0  # their jobs are queued now
    run_burst()
    assert statuses() == ["completed"] * 4
    assert Colis.objects.count() == 4


def test_it_finds_lost_tasks_behind_a_backlog_of_queued_ones(alice_api, colis_data, tariffs,
                                                             redis_clean):
    from django.utils import timezone
    from rq.job import Job

    from sync.enqueue import queue
    from sync.sweeper import requeue_pending

    for _ in range(5):  # five batches of one: five jobs
        send(alice_api, [item(**colis_data)])
    lost = list(ColisTask.objects.order_by("pk").values_list("rq_job_id", flat=True)[3:])
    for job_id in lost:  # the web process died before these two were queued
        queue("colis").remove(job_id)
        Job.fetch(job_id, connection=queue("colis").connection).delete()
    assert requeue_pending(timezone.now(), 0, chunk=2) == 2  # past two chunks of live jobs
    assert set(lost) <= set(queue("colis").job_ids)
    run_burst()
    assert statuses() == ["completed"] * 5


def test_it_queues_again_a_pending_task_whose_job_has_finished(alice_api, colis_data, tariffs,
                                                               redis_clean):
    from rq.job import Job

    from sync.enqueue import queue

    send(alice_api, [item(**colis_data) for _ in range(3)])  # one batch, one job
    job_id = ColisTask.objects.values_list("rq_job_id", flat=True).first()
    ColisTask.objects.update(status=Status.FAILED_FINAL)  # the job will find nothing to do
    run_burst()
    assert Job.fetch(job_id, connection=queue("colis").connection).is_finished
    ColisTask.objects.update(status=Status.PENDING)  # back to pending without a new job
    assert sweep(grace=0)["requeued"] == 3
    run_burst()
    assert statuses() == ["completed"] * 3
    assert Colis.objects.count() == 3


def test_it_runs_a_due_retry_from_the_database(alice_api, colis_data, tariffs, redis_clean):
    from django.utils import timezone

    task_id = send(alice_api, [item(**colis_data)])[0]["task"]["task_id"]
    flush_redis()
    ColisTask.objects.filter(task_id=task_id).update(
        status=Status.FAILED_RETRY, retry_count=1, next_retry_at=timezone.now())
    assert sweep(grace=3600)["retried"] == 1
    run_burst()
    assert ColisTask.objects.get(task_id=task_id).status == Status.COMPLETED


@pytest.mark.parametrize("photo_first", [True, False])
def test_it_completes_the_colis_and_fails_only_a_photo_pillow_chokes_on(
        alice, alice_api, colis_data, tariffs, redis_clean, photo_first):
    """The photo's EXIF makes Pillow raise struct.error: in either order of arrival the colis
    is made, the photo fails with its code, and no job fails or comes round again."""
    import uuid

    from sync import enqueue
    from sync.photos import sweep_uploads
    from tests.test_images import bad_exif_jpeg
    from tests.test_photos import make_upload

    photo_id = uuid.uuid4()
    if photo_first:
        make_upload(alice, photo_id, bad_exif_jpeg())
    send(alice_api, [item(**colis_data, photo_id=str(photo_id))])
    run_burst()
    if not photo_first:
        assert Colis.objects.get().photo_status == Colis.Photo.AWAITING
        make_upload(alice, photo_id, bad_exif_jpeg())
        enqueue.enqueue_attach(str(photo_id))  # as the upload's completion does
        run_burst()
    task = ColisTask.objects.select_related("colis").get()
    assert task.status == Status.COMPLETED and task.error_code == ""
    assert (task.colis.photo_status, task.colis.photo_error) == ("failed", "photo_unreadable")
    assert enqueue.queue("colis").failed_job_registry.count == 0
    assert sweep_uploads()["photos_requeued"] == 0  # nothing comes round again


def test_it_recovers_a_batch_of_photos_whose_worker_was_killed(alice, alice_api, colis_data,
                                                               tariffs, redis_clean):
    """SIGKILL the worker once the batch's photos are stored, before their colis commit; the
    sweeper sends the tasks round again and each ends with one colis and its photo."""
    import uuid

    from tests.test_images import device_like, jpeg_bytes
    from tests.test_photos import make_upload

    photo_ids = [uuid.uuid4() for _ in range(3)]
    for photo_id in photo_ids:
        make_upload(alice, photo_id, jpeg_bytes(device_like(), quality=80))
    send(alice_api, [item(**colis_data, photo_id=str(p)) for p in photo_ids])
    worker = start_worker("colis", FAULT_DRILL_STEP_DELAY="30")
    try:
        wait_for(lambda: statuses() == [Status.IMAGE_UPLOADING] * 3)
        time.sleep(1)  # the photos are processed, then the job sleeps before its commit
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    finally:
        stop(worker)
    assert statuses() == [Status.IMAGE_UPLOADING] * 3 and Colis.objects.count() == 0
    assert sweep(stuck_after=0)["stuck"] == 3
    run_burst()
    assert statuses() == ["completed"] * 3
    assert sorted(Colis.objects.values_list("photo_status", flat=True)) == ["ready"] * 3
    assert set(Colis.objects.values_list("photo_id", flat=True)) == set(photo_ids)
    assert sweep(stuck_after=0)["stuck"] == 0
