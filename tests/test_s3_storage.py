"""Photos and raw uploads on object storage (S3 API: moto's server, tests/s3.py).

The key paths of the photo tests run again here against the bucket (imported below: pytest
collects them in this module, where the autouse `s3` fixture points STORAGES at S3), and the
paths that only object storage has: a tus upload kept as one object per chunk and joined
when complete, no byte of it on the node's disk, parts swept with the upload, photos served
by a short-lived signed URL from a bucket that answers no one without a signature.
"""

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from server.cargo.models import Colis
from server.settings import s3_origins, s3_storages
from sync import uploads
from sync.models import Upload
from sync.photos import sweep_uploads

from .s3 import keys, s3, s3_server  # noqa: F401 - the fixtures
from .test_photo_later import test_it_adds_a_photo_to_a_colis_that_had_none  # noqa: F401
from .test_photos import (  # noqa: F401 - collected again, on S3
    PHOTO,
    sync_colis,
    test_it_attaches_a_photo_that_arrived_before_its_colis,
    test_it_attaches_a_photo_that_arrives_after_its_colis,
    test_it_attaches_once_and_moves_the_task_in_the_feed,
    test_it_deletes_a_refused_photos_upload_at_the_next_sweep,
    test_it_fails_an_empty_photo_in_either_order,
    test_it_fails_only_the_photo_when_a_late_photo_is_rejected,
    test_it_fails_the_photo_when_its_upload_file_is_gone,
    test_it_keeps_no_byte_of_a_refused_photo_sent_over_tus,
    upload_over_tus,
)
from .test_tus import (  # noqa: F401 - collected again, on S3
    JPEG4,
    TUS,
    create,
    live,
    patch,
    stored,
    test_it_answers_a_patch_to_a_finished_upload_as_it_stands,
    test_it_appends_chunks_and_reports_the_offset,
    test_it_completes_an_empty_upload_at_its_creation_and_refuses_it,
    test_it_deletes_an_upload_on_termination,
    test_it_enqueues_attach_photo_when_an_upload_completes,
    test_it_expires_unfinished_uploads_and_the_sweeper_deletes_them,
    test_it_resumes_a_2mb_upload_cut_after_every_chunk,
    test_it_uploads_in_one_go_with_tuspy,
    upload_of,
    urlpatterns,
)
from .workers import start_worker

pytestmark = pytest.mark.urls(__name__)


@pytest.fixture(autouse=True)
def on_s3(s3, settings, tmp_path):  # noqa: F811
    """Every test here on the bucket; the local roots empty, to show nothing lands there."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.UPLOADS_ROOT = tmp_path / "uploads"
    return s3


def local_files(tmp_path) -> list:
    return [p for p in tmp_path.rglob("*") if p.is_file()]


@pytest.mark.django_db(transaction=True)  # the parts go once the completing PATCH commits
def test_it_keeps_one_object_per_chunk_and_joins_them_when_complete(alice_api, on_s3, tmp_path):
    data = JPEG4 + bytes(range(256)) * 12
    response = create(alice_api, len(data), data[:1000])
    location, upload = response["Location"], upload_of(response)
    for offset, end in ((1000, 2000), (2000, 2500)):
        assert patch(alice_api, location, offset, data[offset:end]).status_code == 204
    prefix = f"uploads/{upload.upload_id}"
    assert keys(on_s3, prefix) == [f"{prefix}.parts/{n:012d}" for n in (0, 1000, 2000)]
    assert alice_api.head(location, **TUS)["Upload-Offset"] == "2500"
    assert patch(alice_api, location, 2500, data[2500:]).status_code == 204
    upload.refresh_from_db()
    assert upload.is_complete and stored(upload) == data
    assert keys(on_s3, prefix) == [prefix]  # joined; the parts are gone
    assert local_files(tmp_path) == []  # any node answers: nothing of it on this one's disk


def test_it_resumes_after_a_part_written_by_a_patch_that_did_not_commit(alice_api, on_s3):
    location = create(alice_api, 8, JPEG4)["Location"]
    upload = Upload.objects.get()
    # A PATCH stored its part at offset 4, then its commit failed: the offset stayed 4.
    with open(__file__, "rb") as fh:
        uploads.save_part(upload.temp_name, 4, fh)
    assert patch(alice_api, location, 4, b"efgh").status_code == 204
    upload.refresh_from_db()
    assert stored(upload) == JPEG4 + b"efgh"


def test_it_sweeps_the_parts_of_an_expired_upload(alice_api, on_s3):
    location = create(alice_api, 12, JPEG4)["Location"]
    patch(alice_api, location, 4, b"efgh")
    upload = Upload.objects.get()
    assert len(keys(on_s3, f"uploads/{upload.upload_id}.parts/")) == 2
    Upload.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert sweep_uploads()["uploads_expired"] == 1
    assert keys(on_s3, "uploads/") == []


@pytest.mark.django_db(transaction=True)
def test_it_refuses_a_completed_upload_that_is_not_an_image(alice_api, on_s3):
    response = create(alice_api, 40, b"%PDF-1.7 " + b"x" * 31)
    assert response.status_code == 400
    upload = Upload.objects.get()
    assert upload.is_complete and stored(upload) == b"%PDF-1.7 " + b"x" * 7  # its head only


@pytest.mark.django_db(transaction=True)
def test_it_serves_a_photo_by_a_short_lived_signed_url(alice_api, colis_data, tariffs,
                                                       inline_jobs, on_s3, settings):
    photo_id = uuid.uuid4()
    upload_over_tus(alice_api, photo_id)
    assert sync_colis(alice_api, colis_data, photo_id)["colis"]["photo"] == "ready"
    colis = Colis.objects.get()
    assert f"media/{colis.image.name}" in keys(on_s3, "media/")
    response = alice_api.get(f"/photos/{colis.pk}/image")
    assert response.status_code == 302
    assert response["Cache-Control"] == f"private, max-age={settings.PHOTO_URL_EXPIRES // 2}"
    signed = response["Location"]
    query = parse_qs(urlsplit(signed).query)
    assert query["X-Amz-Expires"] == [str(settings.PHOTO_URL_EXPIRES)] and query["X-Amz-Signature"]
    answer = requests.get(signed, timeout=10)
    assert answer.status_code == 200 and answer.content.startswith(b"\xff\xd8\xff")
    # The bucket is private: the same object without the signature is refused.
    assert requests.get(signed.split("?")[0], timeout=10).status_code == 403


def test_it_signs_urls_that_expire(on_s3, settings):
    """moto does not enforce X-Amz-Expires (it answers a stale URL); what S3 checks is
    what is signed: the signing time and the lifetime, both in the signed query."""
    settings.PHOTO_URL_EXPIRES = 60  # read when the storage is made
    settings.STORAGES = {**settings.STORAGES, **s3_storages(on_s3["env"], 60)}
    name = default_storage.save("colis/x.jpg", ContentFile(PHOTO))
    query = parse_qs(urlsplit(default_storage.url(name)).query)
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((signed_at - timezone.now()).total_seconds()) < 60
    assert query["X-Amz-Expires"] == ["60"] and query["X-Amz-Signature"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_it_attaches_a_photo_in_a_worker_process_that_reads_the_bucket(
        alice_api, colis_data, tariffs, redis_clean, on_s3, settings, tmp_path):
    settings.COLIS_ASYNC = True  # the colis and its photo made by a worker, as on another machine
    photo_id = uuid.uuid4()
    sync_colis(alice_api, colis_data, photo_id)
    upload_over_tus(alice_api, photo_id)
    worker = start_worker("colis", burst=True, **on_s3["env"],
                          MEDIA_ROOT=str(tmp_path / "w-media"), UPLOADS_ROOT=str(tmp_path / "w-up"))
    assert worker.wait(120) == 0
    colis = Colis.objects.get()
    assert colis.photo_status == "ready" and f"media/{colis.thumbnail.name}" in keys(on_s3, "media/")
    assert local_files(tmp_path) == []


def test_it_lets_the_pages_show_images_from_the_bucket():
    """CSP img-src: a photo's redirect lands on the bucket, by path or by virtual host."""
    assert s3_origins("colis", "https://cos.ap-guangzhou.myqcloud.com") == [
        "https://cos.ap-guangzhou.myqcloud.com", "https://colis.cos.ap-guangzhou.myqcloud.com"]
    assert s3_origins("colis", "") == ["https://colis.s3.amazonaws.com", "https://*.amazonaws.com"]
