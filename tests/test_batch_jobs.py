"""One job per device batch: its creates without a photo made together, the rest one by one,
with the same steps, prices, feed positions and notifications as the one-task job."""

import pytest

from server.cargo import services
from server.cargo.models import Colis, Lot
from server.notifications.jobs import notify_many
from server.notifications.models import Notification
from sync.jobs import materialise_many
from sync.models import ColisTask, Status
from tests.conftest import item


@pytest.fixture
def send(alice_api, redis_clean):
    def send(items):
        response = alice_api.post("/api/v1/sync/", {"items": items}, format="json")
        assert response.status_code == 200
        return [row["task"]["task_id"] for row in response.json()["items"]]
    return send


@pytest.fixture
def run(settings, django_capture_on_commit_callbacks):
    """The batch's job, here; the notification job it queues runs at its commit."""
    settings.COLIS_ASYNC = False
    settings.NOTIFY_CHANNELS = ["log"]

    def run(task_ids):
        with django_capture_on_commit_callbacks(execute=True):
            return materialise_many(task_ids)
    return run


def test_it_makes_a_batch_in_one_job_with_every_step_recorded(send, colis_data, tariffs,
                                                              run, caplog):
    ids = send([item(**colis_data) for _ in range(5)])
    assert ColisTask.objects.values("rq_job_id").distinct().count() == 1
    before = max(ColisTask.objects.values_list("change_seq", flat=True))

    assert run(ids) == {"completed": 5}
    assert "one by one" not in caplog.text  # made together, not after a failure

    tasks = list(ColisTask.objects.filter(task_id__in=ids).select_related("colis"))
    assert {t.status for t in tasks} == {Status.COMPLETED}
    assert len({t.colis.numero_suivi for t in tasks}) == 5
    assert len({t.change_seq for t in tasks}) == 5 and min(t.change_seq for t in tasks) > before
    single = services.create_colis(tasks[0].initiated_by, colis_data)
    assert {t.colis.prix_calcule for t in tasks} == {single.prix_calcule}
    steps = list(tasks[0].events.order_by("id").values_list("from_status", "to_status"))
    assert steps == [("", "pending"), ("pending", "processing"),
                     ("processing", "price_calculating"),
                     ("price_calculating", "notification_sending"),
                     ("notification_sending", "completed")]
    assert Notification.objects.filter(status="sent").count() == 5


def test_it_does_nothing_more_when_the_job_runs_again(send, colis_data, tariffs,
                                                      run):
    ids = send([item(**colis_data) for _ in range(3)])
    run(ids)
    assert run(ids) == {"skipped": 3}
    assert Colis.objects.count() == 3
    assert Notification.objects.count() == 3


def test_it_fails_only_the_items_it_refuses_and_makes_the_others(send, alice, colis_data,
                                                                 tariffs, run):
    other = services.open_lot(alice, "cargo")
    ids = send([item(**colis_data), item(**{**colis_data, "lot": other.pk}),
                item(**colis_data, photo_id="7b0e7f4e-8a53-4a43-9a39-1d3b0f1f6a10")])
    # Closed between the sync and the job: services.close_lot refuses while a task is active,
    # so only a write around it can do this; the job still refuses the colis.
    Lot.objects.filter(pk=other.pk).update(statut=Lot.Statut.FERME)

    assert run(ids) == {"completed": 2, "failed_final": 1}

    made, refused, with_photo = (ColisTask.objects.get(task_id=i) for i in ids)
    assert made.status == Status.COMPLETED
    assert refused.status == Status.FAILED_FINAL and refused.error_code == "lot_closed"
    assert refused.colis_id is None
    assert with_photo.status == Status.COMPLETED
    assert with_photo.colis.photo_status == Colis.Photo.AWAITING


def test_it_sends_the_others_and_raises_when_one_notice_fails(alice, colis_data, tariffs,
                                                              settings, monkeypatch):
    from server.notifications import channels

    settings.NOTIFY_CHANNELS = ["log"]
    made = [services.create_colis(alice, colis_data) for _ in range(3)]
    real = channels.CHANNELS["log"]

    def flaky(colis, event, payload):
        if colis.pk == made[1].pk:
            raise OSError("passerelle SMS injoignable")
        real(colis, event, payload)

    monkeypatch.setitem(channels.CHANNELS, "log", flaky)
    with pytest.raises(OSError):
        notify_many([c.pk for c in made], "colis_registered")
    states = dict(Notification.objects.values_list("colis_id", "status"))
    assert states == {made[0].pk: "sent", made[1].pk: "failed", made[2].pk: "sent"}

    monkeypatch.setitem(channels.CHANNELS, "log", real)  # RQ's retry: only the failed one
    again = notify_many([c.pk for c in made] + [made[-1].pk + 100], "colis_registered")
    assert again == {"sent": 1, "skipped": 2, "missing": 1}  # a deleted colis: nothing to say


# --- a batch's photos: one job, their step together -----------------------------------------

@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def photo_items(alice, colis_data, sources: list[bytes]) -> list[dict]:
    """Items whose photos were uploaded first (the device sends them once the data is in)."""
    import uuid

    from tests.test_photos import make_upload

    items = []
    for data in sources:
        photo_id = uuid.uuid4()
        make_upload(alice, photo_id, data)
        items.append(item(**colis_data, photo_id=str(photo_id)))
    return items


def stored(name: str) -> bytes:
    from django.core.files.storage import default_storage

    with default_storage.open(name, "rb") as fh:
        return fh.read()


def test_it_makes_a_batchs_photos_in_one_job_with_every_step(send, alice, colis_data, tariffs,
                                                              run, media, caplog):
    import io

    from PIL import Image

    from sync import jpeg
    from tests.test_images import device_like, gps_exif, jpeg_bytes

    kept = jpeg_bytes(device_like(), gps_exif(1), quality=80)  # fits: kept as it is
    turned = jpeg_bytes(device_like(), gps_exif(6), quality=80)  # encoded again, upright
    buf = io.BytesIO()
    device_like(1600, 1200).save(buf, "WEBP", quality=90)
    ids = send([*photo_items(alice, colis_data, [kept, turned, buf.getvalue()]),
                item(**colis_data)])
    assert ColisTask.objects.values("rq_job_id").distinct().count() == 1

    assert run(ids) == {"completed": 4}

    assert "one by one" not in caplog.text  # made together, not after a failure
    tasks = [ColisTask.objects.select_related("colis").get(task_id=i) for i in ids]
    assert [t.colis.photo_status for t in tasks] == ["ready"] * 3 + ["none"]
    assert stored(tasks[0].colis.image.name) == jpeg.strip(kept)  # the device's own bytes
    for task, size in zip(tasks[1:3], [(600, 800), (1600, 1200)], strict=True):
        image = Image.open(io.BytesIO(stored(task.colis.image.name)))
        assert image.format == "JPEG" and image.size == size and not image.getexif()
    steps = list(tasks[0].events.order_by("id").values_list("to_status", flat=True))
    assert steps == ["pending", "processing", "image_uploading", "price_calculating",
                     "notification_sending", "completed"]
    assert {t.colis.photo_attempts for t in tasks[:3]} == {1}
    assert Notification.objects.filter(status="sent").count() == 4


def test_it_makes_one_colis_per_photo_when_the_batch_runs_twice(send, alice, colis_data,
                                                                tariffs, run, media):
    from tests.test_images import device_like, jpeg_bytes

    ids = send(photo_items(alice, colis_data, [jpeg_bytes(device_like(), quality=80)] * 3))
    assert run(ids) == {"completed": 3}
    assert run(ids) == {"skipped": 3}
    assert Colis.objects.filter(photo_status="ready").count() == 3
    assert len([p for p in (media / "colis").rglob("*") if p.is_file()]) == 6  # image, thumb


def test_it_fails_only_the_photo_it_refuses_in_a_batch(send, alice, colis_data, tariffs,
                                                       run, media):
    from tests.test_images import bad_exif_jpeg, device_like, jpeg_bytes

    good = jpeg_bytes(device_like(), quality=80)
    truncated = good[:len(good) // 2]
    ids = send(photo_items(alice, colis_data, [good, bad_exif_jpeg(), truncated]))
    assert run(ids) == {"completed": 3}
    colis = [ColisTask.objects.get(task_id=i).colis for i in ids]
    assert [(c.photo_status, c.photo_error) for c in colis] == [
        ("ready", ""), ("failed", "photo_unreadable"), ("failed", "photo_unreadable")]


def test_it_leaves_a_photo_task_cancelled_meanwhile(send, alice, colis_data, tariffs, run,
                                                    media, monkeypatch):
    """A task that moved on while the batch processed its photos is left as it is."""
    from sync import jobs
    from tests.test_images import device_like, jpeg_bytes

    ids = send(photo_items(alice, colis_data, [jpeg_bytes(device_like(), quality=80)] * 2))
    real = jobs.photo_fields_for

    def and_cancel(task):
        if str(task.task_id) == ids[1]:
            ColisTask.objects.filter(task_id=ids[1]).update(status=Status.CANCELLED)
        return real(task)

    monkeypatch.setattr(jobs, "photo_fields_for", and_cancel)
    assert run(ids) == {"completed": 1, "superseded": 1}
    assert ColisTask.objects.get(task_id=ids[1]).status == Status.CANCELLED
    assert Colis.objects.count() == 1
