"""A colis and its photo, linked in either order; attach_photo and the sweeper's photo duties."""

import importlib
import io
import uuid
from datetime import timedelta
from pathlib import Path

import django_rq
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import include, path
from django.utils import timezone, translation
from PIL import Image
from rq.job import Job

from server.cargo import services
from server.cargo.models import Colis
from server.photos import photo_url
from server.web.templatetags.web_extras import PHOTO_ERRORS, photo_error_label
from sync import enqueue, images, photos, uploads
from sync.models import ColisTask, Upload
from sync.photos import attach_photo, photo_fields_for, sweep_uploads

from .conftest import item
from .test_images import bad_exif_jpeg, gps_exif, is_blue, is_red, jpeg_bytes, png_header, quadrants
from .test_tus import b64, create, patch
from .web_helpers import web

urlpatterns = [path("api/v1/", include("sync.tus_urls")), path("", include("server.urls"))]
pytestmark = pytest.mark.urls(__name__)

A = Colis.Photo
PHOTO = jpeg_bytes(quadrants(), gps_exif(6))  # turned, with a position: both must go


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def make_upload(owner, photo_id, data: bytes = PHOTO, *, complete: bool = True) -> Upload:
    upload_id = uuid.uuid4()
    name = uploads.storage().save(str(upload_id), ContentFile(data))
    now = timezone.now()
    return Upload.objects.create(
        upload_id=upload_id, owner=owner, photo_id=photo_id, length=len(data),
        offset=len(data) if complete else 0, temp_name=name, expires_at=now + timedelta(days=1),
        completed_at=now if complete else None)


def make_colis(user, colis_data, photo_id) -> tuple[Colis, ColisTask]:
    colis = services.create_colis(user, colis_data, photo_id=photo_id)
    task = ColisTask.objects.create(op_id=uuid.uuid4(), operation="create", colis_data={},
                                    payload_hash="-", initiated_by=user, colis=colis,
                                    photo_id=photo_id, status="completed")
    return colis, task


def stored_image(name: str) -> Image.Image:
    with default_storage.open(name, "rb") as fh:
        data = fh.read()
    assert b"Exif" not in data and not Image.open(io.BytesIO(data)).getexif()
    return Image.open(io.BytesIO(data))


def files(media) -> list[str]:
    return sorted(str(p.relative_to(media)) for p in (media / "colis").rglob("*") if p.is_file())


def upload_over_tus(api, photo_id, data: bytes = PHOTO) -> None:
    """A device sends its photo in two chunks, the first with the creation."""
    meta = f"photo_id {b64(str(photo_id))},filename {b64('IMG_0001.jpg')}"
    half = len(data) // 2
    location = create(api, len(data), data[:half], HTTP_UPLOAD_METADATA=meta)["Location"]
    refused = not uploads.is_image(data[:uploads.HEAD_BYTES])  # 400 at once (sync/tus.py)
    assert patch(api, location, half, data[half:]).status_code == (400 if refused else 204)


def sync_colis(api, colis_data, photo_id) -> dict:
    answer = api.post("/api/v1/sync/", {"items": [item(**colis_data, photo_id=str(photo_id))]},
                      format="json").json()["items"][0]
    assert answer["result"] == "accepted", answer
    return answer["task"]


def changed_since(api, cursor: str) -> list[dict]:
    return api.get("/api/v1/sync/changes", {"since": cursor}).json()["items"]


# Both orders, end to end through the API (jobs inline).

@pytest.mark.django_db(transaction=True)
def test_it_attaches_a_photo_that_arrived_before_its_colis(alice_api, colis_data, tariffs,
                                                           inline_jobs):
    photo_id = uuid.uuid4()
    upload_over_tus(alice_api, photo_id)
    task = sync_colis(alice_api, colis_data, photo_id)
    assert task["status"] == "completed" and task["colis"]["photo"] == "ready"
    colis = Colis.objects.get()
    assert task["colis"]["image_url"] == photo_url(colis, "image")  # private (server/photos.py)
    assert task["colis"]["thumbnail_url"] == photo_url(colis, "thumb")
    image = stored_image(colis.image.name)
    assert image.size == (200, 400)  # upright: the red half on top
    assert is_red(image.getpixel((100, 50))) and is_blue(image.getpixel((100, 350)))
    assert max(stored_image(colis.thumbnail.name).size) <= 320
    assert "IMG_0001" not in colis.image.name and str(photo_id) in colis.image.name


@pytest.mark.django_db(transaction=True)
def test_it_attaches_a_photo_that_arrives_after_its_colis(alice_api, colis_data, tariffs,
                                                          inline_jobs):
    photo_id = uuid.uuid4()
    task = sync_colis(alice_api, colis_data, photo_id)
    assert task["status"] == "completed" and task["colis"]["numero_suivi"]
    assert task["colis"]["photo"] == "awaiting" and task["colis"]["image_url"] is None
    cursor = alice_api.get("/api/v1/sync/changes").json()["cursor"]
    upload_over_tus(alice_api, photo_id)
    [again] = changed_since(alice_api, cursor)
    assert again["task_id"] == task["task_id"] and again["status"] == "completed"
    assert again["colis"]["photo"] == "ready" and again["colis"]["thumbnail_url"]
    assert stored_image(Colis.objects.get().image.name).size == (200, 400)


@pytest.mark.django_db(transaction=True)
def test_it_fails_only_the_photo_when_a_late_photo_is_rejected(alice_api, colis_data, tariffs,
                                                               inline_jobs):
    photo_id = uuid.uuid4()
    task = sync_colis(alice_api, colis_data, photo_id)
    cursor = alice_api.get("/api/v1/sync/changes").json()["cursor"]
    upload_over_tus(alice_api, photo_id, b"pas une image, malgre le nom .jpg\n" * 10)
    [again] = changed_since(alice_api, cursor)
    assert again["task_id"] == task["task_id"] and again["status"] == "completed"
    assert again["colis"]["photo"] == "failed"
    assert again["colis"]["photo_error"] == "photo_not_image"


@pytest.mark.django_db(transaction=True)
def test_it_fails_only_the_photo_when_an_early_photo_is_rejected(alice_api, colis_data, tariffs,
                                                                 inline_jobs):
    photo_id = uuid.uuid4()
    upload_over_tus(alice_api, photo_id, PHOTO[: len(PHOTO) // 2])  # truncated JPEG
    task = sync_colis(alice_api, colis_data, photo_id)
    assert task["status"] == "completed" and task["colis"]["numero_suivi"]
    assert task["colis"]["photo"] == "failed"
    assert task["colis"]["photo_error"] == "photo_unreadable"


@pytest.mark.parametrize("photo_first", [True, False])
@pytest.mark.django_db(transaction=True)
def test_it_fails_an_empty_photo_in_either_order(alice_api, colis_data, tariffs, inline_jobs,
                                                 photo_first):
    """A tus client's empty file: created with Upload-Length 0 and no body, nothing after."""
    photo_id = uuid.uuid4()
    meta = f"photo_id {b64(str(photo_id))}"
    if photo_first:
        assert create(alice_api, 0, HTTP_UPLOAD_METADATA=meta).status_code == 400
    sync_colis(alice_api, colis_data, photo_id)
    if not photo_first:
        assert create(alice_api, 0, HTTP_UPLOAD_METADATA=meta).status_code == 400
    [task] = alice_api.get("/api/v1/sync/changes").json()["items"]
    assert task["status"] == "completed" and task["colis"]["numero_suivi"]
    assert (task["colis"]["photo"], task["colis"]["photo_error"]) == ("failed", "photo_empty")
    assert sweep_uploads()["photos_requeued"] == 0  # nothing left for the sweeper


@pytest.mark.parametrize("photo_first", [True, False])
@pytest.mark.django_db(transaction=True)
def test_it_ends_the_same_in_either_order_when_pillow_raises_struct_error(
        alice_api, colis_data, tariffs, inline_jobs, photo_first):
    """EXIF that makes exif_transpose raise struct.error (not a documented Pillow error)."""
    photo_id = uuid.uuid4()
    if photo_first:
        upload_over_tus(alice_api, photo_id, bad_exif_jpeg())
    sync_colis(alice_api, colis_data, photo_id)
    if not photo_first:
        upload_over_tus(alice_api, photo_id, bad_exif_jpeg())
    [task] = alice_api.get("/api/v1/sync/changes").json()["items"]
    assert task["status"] == "completed" and task["error_code"] == ""
    assert task["colis"]["photo"] == "failed"
    assert task["colis"]["photo_error"] == "photo_unreadable"
    colis = Colis.objects.get()
    assert (colis.photo_status, colis.photo_error, colis.photo_attempts) == (
        A.FAILED, "photo_unreadable", 1)
    assert sweep_uploads()["photos_requeued"] == 0  # nothing left for the sweeper


# The functions the materialise job and the sweeper call.

def test_it_gives_awaiting_fields_until_the_upload_is_complete(alice, colis_data):
    photo_id = uuid.uuid4()
    task = ColisTask(initiated_by=alice, photo_id=photo_id)
    assert photo_fields_for(task) == {"photo_status": "awaiting"}
    make_upload(alice, photo_id, complete=False)
    assert photo_fields_for(task) == {"photo_status": "awaiting"}
    make_upload(alice, photo_id)
    fields = photo_fields_for(task)
    assert fields["photo_status"] == "ready" and fields["photo_error"] == ""
    assert default_storage.exists(fields["image"]) and default_storage.exists(fields["thumbnail"])


def test_it_leaves_one_image_and_one_thumbnail_when_reprocessing(alice, colis_data, media):
    photo_id = uuid.uuid4()
    make_upload(alice, photo_id)
    task = ColisTask(initiated_by=alice, photo_id=photo_id)
    first = photo_fields_for(task)
    assert photo_fields_for(task) == first
    colis, _ = make_colis(alice, colis_data, photo_id)
    attach_photo(str(photo_id))
    Colis.objects.filter(pk=colis.pk).update(photo_status=A.FAILED)
    attach_photo(str(photo_id))
    colis.refresh_from_db()
    assert colis.photo_status == A.READY and colis.image.name == first["image"]
    assert files(media) == sorted([first["image"], first["thumbnail"]])


def test_it_gives_failed_fields_for_a_rejected_photo(alice):
    photo_id = uuid.uuid4()
    make_upload(alice, photo_id, b"")
    assert photo_fields_for(ColisTask(initiated_by=alice, photo_id=photo_id)) == {
        "photo_status": "failed", "photo_error": "photo_empty", "photo_attempts": 1}


def test_it_attaches_once_and_moves_the_task_in_the_feed(alice, colis_data):
    photo_id = uuid.uuid4()
    colis, task = make_colis(alice, colis_data, photo_id)
    assert attach_photo(str(photo_id)) == "not claimed"  # no upload yet
    make_upload(alice, photo_id)
    assert attach_photo(str(photo_id)) == "ready"
    task.refresh_from_db()
    seq = task.change_seq
    assert seq > 0
    assert attach_photo(str(photo_id)) == "nothing to do"  # a second run changes nothing
    task.refresh_from_db()
    assert task.change_seq == seq


def test_it_does_nothing_before_the_colis_exists(alice):
    photo_id = uuid.uuid4()
    make_upload(alice, photo_id)
    assert attach_photo(str(photo_id)) == "no colis yet"


def test_it_never_takes_another_users_upload(alice, bob, colis_data):
    photo_id = uuid.uuid4()
    colis, _ = make_colis(alice, colis_data, photo_id)
    make_upload(bob, photo_id)
    attach_photo(str(photo_id))
    colis.refresh_from_db()
    assert colis.photo_status == A.AWAITING and not colis.image
    assert photo_fields_for(ColisTask(initiated_by=alice, photo_id=photo_id)) == {
        "photo_status": "awaiting"}


def test_it_leaves_a_photo_another_run_is_processing(alice, colis_data):
    photo_id = uuid.uuid4()
    colis, _ = make_colis(alice, colis_data, photo_id)
    make_upload(alice, photo_id)
    Colis.objects.filter(pk=colis.pk).update(photo_status=A.PROCESSING,
                                             updated_at=timezone.now())
    assert attach_photo(str(photo_id)) == "not claimed"
    # A run that died long ago leaves its claim behind: it is taken over.
    Colis.objects.filter(pk=colis.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    assert attach_photo(str(photo_id)) == "ready"


# The sweeper.

def test_it_sweeps_a_photo_that_completed_before_its_colis_committed(alice, colis_data,
                                                                     inline_jobs):
    photo_id = uuid.uuid4()
    make_upload(alice, photo_id)  # its attach_photo found no colis yet
    colis, _ = make_colis(alice, colis_data, photo_id)
    assert sweep_uploads()["photos_requeued"] == 1
    colis.refresh_from_db()
    assert colis.photo_status == A.READY
    summary = sweep_uploads()  # the upload has served: deleted
    assert summary["uploads_used"] == 1 and summary["photos_requeued"] == 0
    assert not Upload.objects.exists()


@pytest.mark.django_db(transaction=True)  # django-rq enqueues when the transaction commits
def test_it_enqueues_a_waiting_photo_once(alice, colis_data, settings, redis_clean):
    settings.COLIS_ASYNC = True
    photo_id = uuid.uuid4()
    make_upload(alice, photo_id)
    make_colis(alice, colis_data, photo_id)
    assert sweep_uploads()["photos_requeued"] == 1
    job = Job.fetch(f"attach-{photo_id}", connection=django_rq.get_connection("colis"))
    assert job.func_name == "sync.photos.attach_photo" and job.args == (str(photo_id),)
    assert sweep_uploads()["photos_requeued"] == 0  # its job is still queued


def test_it_keeps_unclaimed_uploads_for_a_week(alice, colis_data, inline_jobs, monkeypatch):
    waiting, stray = uuid.uuid4(), uuid.uuid4()
    make_colis(alice, colis_data, waiting)
    for photo_id in (waiting, stray):
        upload = make_upload(alice, photo_id)
        Upload.objects.filter(pk=upload.pk).update(
            completed_at=timezone.now() - photos.UNCLAIMED_KEEP - timedelta(hours=1))
    monkeypatch.setattr(enqueue, "enqueue_attach", lambda photo_id: None)
    assert sweep_uploads()["uploads_used"] == 1
    assert list(Upload.objects.values_list("photo_id", flat=True)) == [waiting]


REFUSALS = {  # bytes a photo is refused for, by its code
    "photo_unreadable": PHOTO[: len(PHOTO) // 2],  # a truncated JPEG, its GPS EXIF and all
    "photo_too_big": png_header(8000, 8000),
    "photo_not_image": b"%PDF-1.7\n" * 10,
    "photo_empty": b"",
}


@pytest.mark.parametrize("code", REFUSALS)
@pytest.mark.parametrize("photo_first", [True, False])
def test_it_deletes_a_refused_photos_upload_at_the_next_sweep(alice, colis_data, code,
                                                              photo_first):
    photo_id = uuid.uuid4()
    if photo_first:
        upload = make_upload(alice, photo_id, REFUSALS[code])
        assert sweep_uploads()["uploads_used"] == 0  # no colis has refused it yet
        photo = photo_fields_for(ColisTask(initiated_by=alice, photo_id=photo_id))
        colis = services.create_colis(alice, colis_data, photo_id=photo_id, photo=photo)
    else:
        colis, _ = make_colis(alice, colis_data, photo_id)
        upload = make_upload(alice, photo_id, REFUSALS[code])
        assert attach_photo(str(photo_id)) == "failed"
    colis.refresh_from_db()
    assert (colis.photo_status, colis.photo_error) == (A.FAILED, code)
    assert sweep_uploads()["uploads_used"] == 1
    assert not Upload.objects.exists() and not uploads.storage().exists(upload.temp_name)
    colis.refresh_from_db()
    assert (colis.photo_status, colis.photo_error) == (A.FAILED, code)  # still says why


def test_it_keeps_an_upload_sent_again_after_a_refusal_until_its_run(alice, colis_data):
    photo_id = uuid.uuid4()
    colis, _ = make_colis(alice, colis_data, photo_id)
    refused = make_upload(alice, photo_id, REFUSALS["photo_unreadable"])
    assert attach_photo(str(photo_id)) == "failed"
    again = make_upload(alice, photo_id)  # the device sends the photo again, whole
    assert sweep_uploads()["uploads_used"] == 1
    assert list(Upload.objects.all()) == [again]
    assert not uploads.storage().exists(refused.temp_name)
    assert attach_photo(str(photo_id)) == "ready"  # its run, come after the sweep
    assert sweep_uploads()["uploads_used"] == 1 and not Upload.objects.exists()


def test_it_keeps_the_upload_of_a_photo_not_refused_for_its_bytes(alice, colis_data, media,
                                                                   settings, inline_jobs):
    """A storage error leaves the photo for another attempt; giving up on it after
    PHOTO_MAX_ATTEMPTS says nothing of its bytes: the upload stays UNCLAIMED_KEEP."""
    settings.PHOTO_MAX_ATTEMPTS = 1
    photo_id = uuid.uuid4()
    colis, _ = make_colis(alice, colis_data, photo_id)
    unreadable(make_upload(alice, photo_id), media)
    assert attach_photo(str(photo_id)) == "awaiting"
    assert sweep_uploads()["uploads_used"] == 0
    colis.refresh_from_db()
    assert (colis.photo_status, colis.photo_error) == (A.FAILED, "photo_gave_up")
    assert sweep_uploads()["uploads_used"] == 0 and Upload.objects.count() == 1


@pytest.mark.parametrize("photo_first", [True, False])
@pytest.mark.django_db(transaction=True)
def test_it_keeps_no_byte_of_a_refused_photo_sent_over_tus(alice_api, colis_data, tariffs,
                                                           inline_jobs, photo_first):
    """The path a tablet takes, on the uploads' own storage (local, or the bucket)."""
    photo_id = uuid.uuid4()
    if photo_first:
        upload_over_tus(alice_api, photo_id, REFUSALS["photo_unreadable"])
    sync_colis(alice_api, colis_data, photo_id)
    if not photo_first:
        upload_over_tus(alice_api, photo_id, REFUSALS["photo_unreadable"])
    assert Colis.objects.get().photo_error == "photo_unreadable"
    upload = Upload.objects.get()
    assert sweep_uploads()["uploads_used"] == 1
    assert not Upload.objects.exists() and not uploads.storage().exists(upload.temp_name)
    dirs, names = uploads.storage().listdir("")  # nor its parts, on object storage
    assert not [name for name in dirs + names if str(upload.upload_id) in name]


def test_it_counts_nothing_when_there_is_nothing_to_sweep(db):
    assert sweep_uploads(timezone.now()) == {
        "uploads_expired": 0, "uploads_used": 0, "photos_given_up": 0, "photos_requeued": 0}



def test_it_fails_the_photo_when_its_upload_file_is_gone(alice, colis_data):
    photo_id = uuid.uuid4()
    colis, _ = make_colis(alice, colis_data, photo_id)
    uploads.storage().delete(make_upload(alice, photo_id).temp_name)
    assert attach_photo(str(photo_id)) == "failed"
    colis.refresh_from_db()
    assert colis.photo_error == "photo_missing"


# Storage errors and the sweeper's bound: a photo ends, its colis never fails.

def unreadable(upload: Upload, media) -> None:
    """The upload's file becomes a directory: opening it for reading raises an OSError that
    is not FileNotFoundError, as a storage that is down would."""
    path = Path(uploads.storage().path(upload.temp_name))
    path.unlink()
    path.mkdir()


def test_it_leaves_the_photo_awaiting_when_the_storage_cannot_be_read(alice, colis_data, media):
    photo_id = uuid.uuid4()
    colis, task = make_colis(alice, colis_data, photo_id)
    upload = make_upload(alice, photo_id)
    unreadable(upload, media)
    assert attach_photo(str(photo_id)) == "awaiting"
    colis.refresh_from_db()
    assert (colis.photo_status, colis.photo_attempts) == (A.AWAITING, 1)
    Path(uploads.storage().path(upload.temp_name)).rmdir()  # the storage is back
    uploads.storage().save(upload.temp_name, ContentFile(PHOTO))
    assert attach_photo(str(photo_id)) == "ready"


def test_it_makes_the_colis_when_an_early_photo_cannot_be_read(alice, colis_data, media):
    photo_id = uuid.uuid4()
    unreadable(make_upload(alice, photo_id), media)
    assert photo_fields_for(ColisTask(initiated_by=alice, photo_id=photo_id)) == {
        "photo_status": "awaiting", "photo_error": "", "photo_attempts": 1}  # the sweeper's


def test_it_leaves_the_photo_awaiting_when_the_storage_cannot_save(alice, colis_data, media):
    photo_id = uuid.uuid4()
    colis, _ = make_colis(alice, colis_data, photo_id)
    make_upload(alice, photo_id)
    Colis.objects.filter(pk=colis.pk).update(photo_status=A.FAILED, photo_error="photo_missing")
    media.mkdir(parents=True, exist_ok=True)
    media.joinpath("colis").write_bytes(b"")  # a file where the photos' folder goes
    assert attach_photo(str(photo_id)) == "awaiting"
    colis.refresh_from_db()
    assert colis.photo_status == A.AWAITING and not colis.image
    assert colis.photo_error == ""  # the reason of before no longer holds


def test_it_gives_up_on_a_photo_after_its_attempts(alice, colis_data, media, settings,
                                                    inline_jobs):
    settings.PHOTO_MAX_ATTEMPTS = 3
    photo_id = uuid.uuid4()
    colis, task = make_colis(alice, colis_data, photo_id)
    unreadable(make_upload(alice, photo_id), media)
    attach_photo(str(photo_id))  # the attempt the upload's completion queues
    seen = []
    for _ in range(4):
        summary = sweep_uploads()
        colis.refresh_from_db()
        seen.append((summary["photos_requeued"], summary["photos_given_up"],
                     colis.photo_attempts, colis.photo_status))
    assert seen == [(1, 0, 2, A.AWAITING), (1, 0, 3, A.AWAITING), (0, 1, 3, A.FAILED),
                    (0, 0, 3, A.FAILED)]
    assert colis.photo_error == "photo_gave_up"
    task.refresh_from_db()
    assert task.change_seq > 0  # the device hears of it


def test_it_gives_up_on_a_photo_whose_runs_keep_dying(alice, colis_data, settings, inline_jobs):
    """A worker killed while it holds the photo (say, by the kernel, out of memory) leaves
    it processing: taken over when stale, each time one more attempt, then given up."""
    settings.PHOTO_MAX_ATTEMPTS = 2
    photo_id = uuid.uuid4()
    colis, _ = make_colis(alice, colis_data, photo_id)
    make_upload(alice, photo_id)
    long_ago = timezone.now() - timedelta(hours=1)
    Colis.objects.filter(pk=colis.pk).update(photo_status=A.PROCESSING, photo_attempts=2,
                                             updated_at=long_ago)
    assert sweep_uploads()["photos_given_up"] == 1
    colis.refresh_from_db()
    assert (colis.photo_status, colis.photo_error) == (A.FAILED, "photo_gave_up")
    # A hold that is not stale yet is left to its run, however many attempts it took.
    Colis.objects.filter(pk=colis.pk).update(photo_status=A.PROCESSING, photo_attempts=5)
    assert sweep_uploads()["photos_given_up"] == 0
    Colis.objects.filter(pk=colis.pk).update(photo_attempts=1, updated_at=long_ago)
    summary = sweep_uploads()  # an attempt left: taken over, and this time it works
    colis.refresh_from_db()
    assert summary["photos_requeued"] == 1 and colis.photo_status == A.READY
    assert (colis.photo_attempts, colis.photo_error) == (2, "")


def test_it_counts_one_attempt_per_claim(alice, colis_data):
    photo_id = uuid.uuid4()
    colis, _ = make_colis(alice, colis_data, photo_id)
    make_upload(alice, photo_id, b"")
    assert attach_photo(str(photo_id)) == "failed"
    assert attach_photo(str(photo_id)) == "failed"  # a failed photo may be claimed again
    colis.refresh_from_db()
    assert (colis.photo_attempts, colis.photo_error) == (2, "photo_empty")


# The codes, rendered where they are shown.

PHOTO_CODES = ["photo_empty", "photo_not_image", "photo_unreadable", "photo_too_big",
               "photo_missing", "photo_gave_up"]


def test_it_knows_every_photo_code_in_the_pages_and_the_app():
    assert sorted(PHOTO_CODES) == sorted([images.EMPTY, images.NOT_IMAGE, images.UNREADABLE,
                                          images.TOO_BIG, photos.MISSING, photos.GAVE_UP])
    assert sorted(PHOTO_ERRORS) == sorted(PHOTO_CODES)
    codes_js = (Path(__file__).resolve().parent.parent / "pwa/js/codes.js").read_text()
    with translation.override("fr"):
        for code, sentence in PHOTO_ERRORS.items():  # the same French source on both sides
            assert f"{code}: gettext(" in codes_js and str(sentence) in codes_js, code


@pytest.mark.parametrize("lang, words", [("fr", "tronquée"), ("en", "truncated"),
                                         ("zh-hans", "无法读取")])
def test_it_renders_a_photo_code_in_the_viewers_language(lang, words):
    with translation.override(lang):
        assert words in photo_error_label("photo_unreadable")
        for code in PHOTO_CODES:
            assert photo_error_label(code) != code
        assert photo_error_label("La photo d'avant") == "La photo d'avant"  # stored as it was


@pytest.mark.parametrize("language, words", [("fr", "tronquée ou illisible"),
                                             ("en", "truncated or unreadable"),
                                             ("zh-hans", "照片不完整或无法读取")])
def test_it_shows_a_failed_photos_reason_on_the_lot_page(alice, colis_data, cargo_lot, language,
                                                         words):
    colis, _ = make_colis(alice, colis_data, uuid.uuid4())
    Colis.objects.filter(pk=colis.pk).update(photo_status=A.FAILED,
                                             photo_error="photo_unreadable")
    html = web(alice).get(f"/lots/{cargo_lot.pk}/", HTTP_ACCEPT_LANGUAGE=language)
    assert words in html.content.decode() and "photo_unreadable" not in html.content.decode()


def test_it_turns_the_sentences_stored_before_into_codes(alice, colis_data):
    from django.apps import apps

    migration = importlib.import_module("server.cargo.migrations.0003_photo_error_codes")
    colis, _ = make_colis(alice, colis_data, uuid.uuid4())
    before = "La photo est tronquée ou illisible : reprenez-la."
    Colis.objects.filter(pk=colis.pk).update(photo_status=A.FAILED, photo_error=before)
    migration.to_codes(apps, None)
    colis.refresh_from_db()
    assert colis.photo_error == "photo_unreadable"
    migration.to_sentences(apps, None)
    colis.refresh_from_db()
    assert colis.photo_error == before
