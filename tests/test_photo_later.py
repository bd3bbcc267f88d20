"""A photo later: an update's `photo_id` adds a photo to a colis, or replaces its photo once
the new one is ready; a refused one leaves the old photo and says why (sync/photos.py)."""

import uuid
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from server.cargo import services
from server.cargo.models import Colis
from sync import enqueue, photos, uploads
from sync.jobs import materialise
from sync.models import ColisTask, Status, Upload
from sync.photos import attach_photo, sweep_uploads

from .conftest import item
from .test_images import is_blue, is_red, jpeg_bytes
from .test_photos import changed_since, files, make_upload, stored_image, sync_colis
from .test_photos import upload_over_tus as upload
from .workers import start_worker

A = Colis.Photo
NEW_PHOTO = jpeg_bytes(Image.new("RGB", (300, 200), "blue"))  # PHOTO is red on top
_NOISE = jpeg_bytes(Image.effect_noise((800, 600), 64).convert("RGB"), quality=95)
BLURRY = _NOISE[: len(_NOISE) // 2]  # a JPEG cut short: Pillow refuses it
ENDED = ("none", None, "")  # photo_next, photo_next_id, photo_next_error once it took its place


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def update(api, colis_id: int, version: int, op_id=None, **fields) -> dict:
    """Send one update item; its answer."""
    body = {"items": [item(op_id, "update", colis=colis_id, base_version=version, **fields)]}
    response = api.post("/api/v1/sync/", body, format="json")
    assert response.status_code == 200
    return response.json()["items"][0]


def next_photo(colis: dict) -> tuple:
    return colis["photo_next"], colis["photo_next_id"], colis["photo_next_error"]


def colis_with_photo(api, colis_data) -> tuple[Colis, uuid.UUID]:
    photo_id = uuid.uuid4()
    upload(api, photo_id)
    sync_colis(api, colis_data, photo_id)
    colis = Colis.objects.get()
    assert colis.photo_status == A.READY
    assert sweep_uploads()["uploads_used"] == 1  # its upload has served
    return colis, photo_id


def is_blue_on_top(name: str) -> bool:
    """NEW_PHOTO's image rather than PHOTO's (red on top)."""
    pixel = stored_image(name).convert("RGB").getpixel((10, 10))
    assert is_blue(pixel) or is_red(pixel)
    return is_blue(pixel)


# Through the API, jobs inline (both orders, the swap, a refused photo).

@pytest.mark.django_db(transaction=True)
def test_it_adds_a_photo_to_a_colis_that_had_none(alice_api, colis_data, tariffs, inline_jobs):
    task = alice_api.post("/api/v1/sync/", {"items": [item(**colis_data)]},
                          format="json").json()["items"][0]["task"]
    colis_id = task["colis"]["id"]
    assert task["colis"]["photo"] == "none"
    photo_id = uuid.uuid4()
    answer = update(alice_api, colis_id, 1, photo_id=str(photo_id))  # no other field
    assert answer["result"] == "accepted", answer
    colis = answer["task"]["colis"]
    assert answer["task"]["status"] == "completed" and colis["version"] == 2
    assert colis["photo"] == "none" and colis["image_url"] is None
    assert next_photo(colis) == ("awaiting", str(photo_id), "")
    cursor = alice_api.get("/api/v1/sync/changes").json()["cursor"]
    upload(alice_api, photo_id)
    changed = changed_since(alice_api, cursor)
    assert {t["task_id"] for t in changed} == {task["task_id"], answer["task"]["task_id"]}
    for seen in changed:  # both tasks carry the colis: the tablet hears of it by either
        assert seen["colis"]["photo"] == "ready" and seen["colis"]["photo_id"] == str(photo_id)
        assert next_photo(seen["colis"]) == ENDED and seen["colis"]["image_url"]
        assert seen["colis"]["version"] == 2  # the photo landing is not an edit
    stored = Colis.objects.get()
    assert str(photo_id) in stored.image.name and default_storage.exists(stored.thumbnail.name)


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_old_photo_until_the_new_one_is_ready_then_swaps_the_files(
        alice_api, colis_data, tariffs, inline_jobs, media):
    colis, old_id = colis_with_photo(alice_api, colis_data)
    old = [colis.image.name, colis.thumbnail.name]
    assert not is_blue_on_top(colis.image.name)
    new_id = uuid.uuid4()
    answer = update(alice_api, colis.pk, 1, photo_id=str(new_id), description="Reprise")
    shown = answer["task"]["colis"]
    assert (shown["photo"], shown["photo_id"], shown["description"]) == (
        "ready", str(old_id), "Reprise")
    assert next_photo(shown) == ("awaiting", str(new_id), "")
    colis.refresh_from_db()
    assert [colis.image.name, colis.thumbnail.name] == old and files(media) == sorted(old)
    upload(alice_api, new_id, NEW_PHOTO)
    colis.refresh_from_db()
    assert (colis.photo_status, colis.photo_id, colis.photo_error) == (A.READY, new_id, "")
    assert str(new_id) in colis.image.name and is_blue_on_top(colis.image.name)
    assert files(media) == sorted([colis.image.name, colis.thumbnail.name])  # the old: gone
    assert not any(default_storage.exists(name) for name in old)
    assert (colis.photo_next_status, colis.photo_next_id, colis.photo_next_by_id) == (
        A.NONE, None, None)


@pytest.mark.parametrize("photo_first", [True, False])
@pytest.mark.django_db(transaction=True)
def test_it_replaces_the_photo_whether_its_upload_comes_before_or_after_the_update(
        alice_api, colis_data, tariffs, inline_jobs, media, photo_first):
    colis, _ = colis_with_photo(alice_api, colis_data)
    new_id = uuid.uuid4()
    if photo_first:
        upload(alice_api, new_id, NEW_PHOTO)  # no colis waits for it yet: it waits
        assert Colis.objects.get().photo_id != new_id
    answer = update(alice_api, colis.pk, 1, photo_id=str(new_id), poids="13")
    assert answer["task"]["status"] == "completed"
    if not photo_first:
        upload(alice_api, new_id, NEW_PHOTO)
    colis.refresh_from_db()
    assert (colis.photo_status, colis.photo_id, colis.version) == (A.READY, new_id, 2)
    assert is_blue_on_top(colis.image.name) and len(files(media)) == 2
    assert colis.poids == 13
    assert sweep_uploads()["uploads_used"] == 1  # the new photo's upload has served
    assert sweep_uploads()["photos_requeued"] == 0


@pytest.mark.parametrize("photo_first", [True, False])
@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_old_photo_and_shows_the_code_when_the_new_one_is_refused(
        alice_api, colis_data, tariffs, inline_jobs, media, photo_first):
    colis, old_id = colis_with_photo(alice_api, colis_data)
    old = [colis.image.name, colis.thumbnail.name]
    new_id = uuid.uuid4()
    if photo_first:
        upload(alice_api, new_id, BLURRY)
    answer = update(alice_api, colis.pk, 1, photo_id=str(new_id))
    assert answer["task"]["status"] == "completed" and answer["task"]["error_code"] == ""
    if not photo_first:
        upload(alice_api, new_id, BLURRY)
    [seen] = [t for t in alice_api.get("/api/v1/sync/changes").json()["items"]
              if t["operation"] == "update"]
    assert seen["status"] == "completed" and seen["colis"]["version"] == 2
    assert (seen["colis"]["photo"], seen["colis"]["photo_id"], seen["colis"]["photo_error"]) == (
        "ready", str(old_id), "")
    assert next_photo(seen["colis"]) == ("failed", str(new_id), "photo_unreadable")
    colis.refresh_from_db()
    assert [colis.image.name, colis.thumbnail.name] == old and files(media) == sorted(old)
    refused = Upload.objects.get(photo_id=new_id)
    summary = sweep_uploads()
    assert summary["photos_requeued"] == 0  # an answer: nothing comes round again
    assert summary["uploads_used"] == 1  # and the refused photo's raw bytes go
    assert not uploads.storage().exists(refused.temp_name)
    # Another photo later, and this one is good: it takes the place, the failure is gone.
    again = uuid.uuid4()
    update(alice_api, colis.pk, 2, photo_id=str(again))
    upload(alice_api, again, NEW_PHOTO)
    colis.refresh_from_db()
    assert (colis.photo_id, colis.photo_next_status, colis.photo_next_error) == (
        again, A.NONE, "")
    assert is_blue_on_top(colis.image.name) and len(files(media)) == 2


@pytest.mark.django_db(transaction=True)
def test_it_makes_one_change_when_the_same_update_comes_twice(alice_api, colis_data, tariffs,
                                                               inline_jobs, media):
    colis, _ = colis_with_photo(alice_api, colis_data)
    new_id, op_id = uuid.uuid4(), uuid.uuid4()
    first = update(alice_api, colis.pk, 1, op_id, photo_id=str(new_id))
    again = update(alice_api, colis.pk, 1, op_id, photo_id=str(new_id))
    assert (first["result"], again["result"]) == ("accepted", "duplicate")
    assert again["task"]["task_id"] == first["task"]["task_id"]
    upload(alice_api, new_id, NEW_PHOTO)
    task = ColisTask.objects.get(op_id=op_id)
    colis.refresh_from_db()
    seq, image, updated = task.change_seq, colis.image.name, colis.updated_at
    # The jobs run twice (a dead worker's job comes round again): nothing more happens.
    assert materialise(str(task.task_id)) == "skipped"
    assert attach_photo(str(new_id)) == "nothing to do"
    task.refresh_from_db()
    colis.refresh_from_db()
    assert (task.change_seq, colis.image.name, colis.updated_at) == (seq, image, updated)
    assert (colis.version, colis.photo_id) == (2, new_id) and len(files(media)) == 2


@pytest.mark.django_db(transaction=True)
def test_it_waits_for_the_latest_photo_when_two_updates_send_one_each(
        alice_api, colis_data, tariffs, inline_jobs, media):
    colis, old_id = colis_with_photo(alice_api, colis_data)
    first, second = uuid.uuid4(), uuid.uuid4()
    update(alice_api, colis.pk, 1, photo_id=str(first))
    update(alice_api, colis.pk, 2, photo_id=str(second))
    upload(alice_api, first, NEW_PHOTO)  # too late: the tablet took another since
    colis.refresh_from_db()
    assert (colis.photo_id, colis.photo_next_id) == (old_id, second)
    upload(alice_api, second, NEW_PHOTO)
    colis.refresh_from_db()
    assert (colis.photo_id, colis.photo_next_status) == (second, A.NONE)
    assert len(files(media)) == 2


# The checks of the item.

@pytest.mark.django_db
def test_it_refuses_an_update_with_nothing_to_change_or_a_bad_photo_id(alice_api, colis_data,
                                                                       tariffs, inline_jobs):
    colis = services.create_colis(alice_api.device.user, colis_data)
    nothing = update(alice_api, colis.pk, 1)
    assert nothing["result"] == "invalid" and "data" in nothing["errors"]
    bad = update(alice_api, colis.pk, 1, photo_id="pas-un-uuid")
    assert bad["result"] == "invalid" and list(bad["errors"]) == ["photo_id"]
    empty = update(alice_api, colis.pk, 1, photo_id="")
    assert empty["result"] == "invalid" and "data" in empty["errors"]


# The domain function and the jobs, directly.

def test_it_never_takes_another_users_upload_as_the_new_photo(alice, bob, colis_data):
    colis = services.create_colis(alice, colis_data)
    photo_id = uuid.uuid4()
    services.update_colis(colis.pk, 1, {}, alice, photo_id=photo_id)
    make_upload(bob, photo_id)
    assert attach_photo(str(photo_id)) == "not claimed"
    colis.refresh_from_db()
    assert (colis.photo_status, colis.photo_next_status) == (A.NONE, A.AWAITING)
    assert sweep_uploads()["photos_requeued"] == 0


def test_it_leaves_the_waiting_photo_alone_when_an_update_names_it_again(alice, colis_data):
    colis = services.create_colis(alice, colis_data)
    photo_id = uuid.uuid4()
    services.update_colis(colis.pk, 1, {}, alice, photo_id=photo_id)
    Colis.objects.filter(pk=colis.pk).update(photo_next_attempts=2)
    colis = services.update_colis(colis.pk, 2, {"description": "x"}, alice, photo_id=photo_id)
    assert (colis.version, colis.photo_next_id, colis.photo_next_attempts) == (3, photo_id, 2)


def test_it_requeues_a_waiting_new_photo_and_gives_it_up_after_its_attempts(
        alice, colis_data, settings, inline_jobs, monkeypatch):
    settings.PHOTO_MAX_ATTEMPTS = 2
    colis = services.create_colis(alice, colis_data)
    photo_id = uuid.uuid4()
    services.update_colis(colis.pk, 1, {}, alice, photo_id=photo_id)
    make_upload(alice, photo_id)  # its attach_photo found no colis waiting yet
    calls = []
    monkeypatch.setattr(enqueue, "enqueue_attach", calls.append)  # the attempt gets lost
    assert sweep_uploads()["photos_requeued"] == 1 and calls == [str(photo_id)]
    # Its runs die while they hold it: taken over when stale, then given up.
    long_ago = timezone.now() - timedelta(hours=1)
    Colis.objects.filter(pk=colis.pk).update(photo_next_status=A.PROCESSING,
                                             photo_next_attempts=2, updated_at=long_ago)
    summary = sweep_uploads()
    assert (summary["photos_given_up"], summary["photos_requeued"]) == (1, 0)
    colis.refresh_from_db()
    assert (colis.photo_status, colis.photo_next_status, colis.photo_next_error) == (
        A.NONE, A.FAILED, "photo_gave_up")


def test_it_requeues_a_new_photo_whose_upload_came_while_the_update_committed(
        alice, colis_data, inline_jobs):
    colis = services.create_colis(alice, colis_data)
    photo_id = uuid.uuid4()
    make_upload(alice, photo_id)
    services.update_colis(colis.pk, 1, {}, alice, photo_id=photo_id)  # no attach queued here
    assert sweep_uploads()["photos_requeued"] == 1
    colis.refresh_from_db()
    assert (colis.photo_status, colis.photo_id, colis.photo_next_id) == (A.READY, photo_id, None)
    assert sweep_uploads()["uploads_used"] == 1


def test_it_deletes_what_a_run_stored_for_a_new_photo_replaced_while_it_worked(
        alice, colis_data, media, monkeypatch):
    colis = services.create_colis(alice, colis_data)
    first, second = uuid.uuid4(), uuid.uuid4()
    services.update_colis(colis.pk, 1, {}, alice, photo_id=first)
    make_upload(alice, first)
    real = photos.attempt

    def attempt_then_another_photo(*args):
        fields = real(*args)  # stored, not attached yet: the tablet sends another photo
        services.update_colis(colis.pk, 2, {}, alice, photo_id=second)
        return fields

    monkeypatch.setattr(photos, "attempt", attempt_then_another_photo)
    attach_photo(str(first))
    colis.refresh_from_db()
    assert (colis.photo_status, colis.photo_next_id, colis.photo_next_status) == (
        A.NONE, second, A.AWAITING)
    assert files(media) == []  # the first one's files went with it


def test_it_deletes_what_a_run_stored_for_a_photo_a_photo_later_replaced_meanwhile(
        alice, colis_data, media, monkeypatch):
    first, later = uuid.uuid4(), uuid.uuid4()
    colis = services.create_colis(alice, colis_data, photo_id=first)  # its photo awaited
    services.update_colis(colis.pk, 1, {}, alice, photo_id=later)
    make_upload(alice, first)
    make_upload(alice, later, NEW_PHOTO)
    real = photos.attempt

    def attempt_while_the_later_one_lands(owner_id, photo_id, upload):
        fields = real(owner_id, photo_id, upload)
        if photo_id == first:
            assert attach_photo(str(later)) == "ready"
        return fields

    monkeypatch.setattr(photos, "attempt", attempt_while_the_later_one_lands)
    attach_photo(str(first))
    colis.refresh_from_db()
    assert (colis.photo_status, colis.photo_id, colis.photo_next_status) == (
        A.READY, later, A.NONE)
    assert files(media) == sorted([colis.image.name, colis.thumbnail.name])
    assert is_blue_on_top(colis.image.name)


# With a real worker.

@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_it_replaces_a_photo_with_a_real_worker(alice_api, colis_data, tariffs, redis_clean,
                                                media):
    def burst() -> None:
        worker = start_worker("colis", burst=True, MEDIA_ROOT=str(media))
        assert worker.wait(120) == 0

    old_id, new_id = uuid.uuid4(), uuid.uuid4()
    sync_colis(alice_api, colis_data, old_id)
    upload(alice_api, old_id)
    burst()
    colis = Colis.objects.get()
    assert colis.photo_status == A.READY
    old = [colis.image.name, colis.thumbnail.name]
    answer = update(alice_api, colis.pk, 1, photo_id=str(new_id))
    assert answer["result"] == "accepted" and answer["task"]["status"] == "pending"
    burst()
    colis.refresh_from_db()
    assert (colis.photo_id, colis.photo_next_status, colis.version) == (old_id, A.AWAITING, 2)
    assert files(media) == sorted(old)
    upload(alice_api, new_id, NEW_PHOTO)
    burst()
    colis.refresh_from_db()
    assert (colis.photo_status, colis.photo_id, colis.photo_next_status) == (
        A.READY, new_id, A.NONE)
    assert is_blue_on_top(colis.image.name)
    assert files(media) == sorted([colis.image.name, colis.thumbnail.name])
    assert ColisTask.objects.get(operation="update").status == Status.COMPLETED
    assert enqueue.queue("colis").failed_job_registry.count == 0
