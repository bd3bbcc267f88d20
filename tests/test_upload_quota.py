"""Upload quotas and checks (sync/uploads.py): open uploads and bytes a day per user, 429
with what to do; a completed upload that is not an image refused at once, its photo failed."""

import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from PIL import Image

from server.cargo import services
from server.cargo.models import Colis
from sync import uploads
from sync.models import ColisTask, Upload
from sync.photos import attach_photo, photo_fields_for
from tests.security_helpers import counters  # noqa: F401 - fixture

from .test_images import jpeg_bytes, quadrants
from .test_photo_access import upload_photo
from .test_tus import TUS, create, metadata, patch, stored

pytestmark = pytest.mark.usefixtures("counters")
NOT_AN_IMAGE = b"#!/bin/sh\necho not a photo\n" * 20


def encoded(fmt: str) -> bytes:
    buf = io.BytesIO()
    quadrants(64, 32).save(buf, fmt)
    return buf.getvalue()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# Open uploads.

def test_it_refuses_more_open_uploads_than_the_limit_with_429(alice_api, bob_api, settings):
    settings.UPLOAD_MAX_OPEN = 3
    opened = [create(alice_api, 100) for _ in range(3)]
    assert [r.status_code for r in opened] == [201, 201, 201]
    refused = create(alice_api, 100, HTTP_ACCEPT_LANGUAGE="fr")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Trop d'envois de photos en cours (3)" in refused.content.decode()
    assert "annulez-les (DELETE)" in refused.content.decode()
    assert Upload.objects.filter(owner__username="alice").count() == 3
    assert create(bob_api, 100).status_code == 201  # per user


def test_it_counts_neither_finished_nor_expired_nor_deleted_uploads(alice_api, settings):
    settings.UPLOAD_MAX_OPEN = 2
    first, second = create(alice_api, 4)["Location"], create(alice_api, 4)["Location"]
    assert create(alice_api, 4).status_code == 429
    assert patch(alice_api, first, 0, b"\xff\xd8\xff\xdb").status_code == 204  # finished
    assert create(alice_api, 4).status_code == 201
    assert create(alice_api, 4).status_code == 429
    assert alice_api.delete(second, **TUS).status_code == 204
    third = create(alice_api, 4)
    assert third.status_code == 201
    Upload.objects.filter(completed_at__isnull=True).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    assert create(alice_api, 4).status_code == 201


def test_it_says_what_to_do_in_the_clients_language(alice_api, settings):
    settings.UPLOAD_MAX_OPEN = 1
    create(alice_api, 4)
    english = create(alice_api, 4, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Too many photo uploads in progress (1)" in english
    chinese = create(alice_api, 4, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "正在上传的照片过多（1 个）" in chinese and "DELETE" in chinese


# Bytes a day.

def test_it_refuses_more_bytes_a_day_than_the_limit_with_429(alice_api, bob_api, settings):
    settings.UPLOAD_MAX_BYTES_PER_DAY = 3 * 1024 * 1024
    assert create(alice_api, 2 * 1024 * 1024).status_code == 201
    refused = create(alice_api, 1024 * 1024 + 1, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 429
    assert "3 MiB a day" in refused.content.decode() and "after midnight UTC" in (
        refused.content.decode())
    assert 0 < int(refused["Retry-After"]) <= 24 * 3600
    assert create(alice_api, 1024 * 1024).status_code == 201  # the refused one took nothing
    assert create(alice_api, 1).status_code == 429
    assert create(bob_api, 2 * 1024 * 1024).status_code == 201  # per user


def test_it_starts_a_new_count_each_utc_day(alice, settings):
    settings.UPLOAD_MAX_BYTES_PER_DAY = 1000
    today = datetime(2026, 12, 3, 23, 59, tzinfo=UTC)
    uploads.reserve_bytes(alice, 1000, today)
    with pytest.raises(uploads.QuotaExceeded) as refused:
        uploads.reserve_bytes(alice, 1, today)
    assert refused.value.retry_after == 61
    uploads.reserve_bytes(alice, 1000, today + timedelta(minutes=2))


# What a completed upload holds.

@pytest.mark.parametrize("head", [
    b"\xff\xd8\xff\xe0\x00\x10JFIF", b"\x89PNG\r\n\x1a\n\x00\x00", b"RIFF\x10\x00\x00\x00WEBPVP8 ",
    b"\x00\x00\x00\x18ftypheic", b"\x00\x00\x00\x18ftypheix", b"\x00\x00\x00\x1cftypmif1"])
def test_it_knows_the_photo_formats_by_their_first_bytes(head):
    assert uploads.is_image(head)


@pytest.mark.parametrize("head", [
    b"", b"GIF89a", b"%PDF-1.7", b"PK\x03\x04", b"<svg xmlns=", b"RIFF\x10\x00\x00\x00WAVEfmt ",
    b"\x00\x00\x00\x18ftypisom", b"\xff\xd8"])
def test_it_knows_what_is_not_a_photo(head):
    assert not uploads.is_image(head)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_it_accepts_real_photos_of_each_format(alice_api, fmt):
    data = encoded(fmt)
    location = create(alice_api, len(data), data[:10])["Location"]
    assert patch(alice_api, location, 10, data[10:]).status_code == 204
    assert stored(Upload.objects.get()) == data


def test_it_refuses_a_finished_upload_that_is_not_an_image_with_400(alice_api):
    location = create(alice_api, len(NOT_AN_IMAGE))["Location"]
    half = len(NOT_AN_IMAGE) // 2
    assert patch(alice_api, location, 0, NOT_AN_IMAGE[:half]).status_code == 204
    refused = patch(alice_api, location, half, NOT_AN_IMAGE[half:], HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400
    assert "not a photo (JPEG, PNG, WebP or HEIC)" in refused.content.decode()
    upload = Upload.objects.get()
    # Complete (a HEAD tells the tablet not to send it again), only its first bytes kept.
    assert upload.is_complete and alice_api.head(location, **TUS)["Upload-Offset"] == str(
        len(NOT_AN_IMAGE))
    assert stored(upload) == NOT_AN_IMAGE[:uploads.HEAD_BYTES]


def test_it_refuses_a_non_image_sent_whole_with_the_creation(alice_api):
    response = create(alice_api, len(NOT_AN_IMAGE), NOT_AN_IMAGE)
    assert response.status_code == 400
    assert stored(Upload.objects.get()) == NOT_AN_IMAGE[:uploads.HEAD_BYTES]


def colis_waiting(user, colis_data, photo_id) -> Colis:
    colis = services.create_colis(user, colis_data, photo_id=photo_id)
    ColisTask.objects.create(op_id=uuid.uuid4(), operation="create", colis_data={},
                             payload_hash="-", initiated_by=user, colis=colis,
                             photo_id=photo_id, status="completed")
    return colis


@pytest.mark.django_db(transaction=True)
def test_it_fails_the_photo_of_a_waiting_colis_with_photo_not_image(alice, alice_api,
                                                                      colis_data, inline_jobs):
    photo_id = uuid.uuid4()
    colis = colis_waiting(alice, colis_data, photo_id)
    assert create(alice_api, len(NOT_AN_IMAGE), NOT_AN_IMAGE,
                  HTTP_UPLOAD_METADATA=metadata(photo_id)).status_code == 400
    colis.refresh_from_db()  # attach_photo ran inline when the refused upload committed
    assert (colis.photo_status, colis.photo_error) == ("failed", "photo_not_image")
    assert not colis.image


def test_it_fails_the_photo_with_photo_not_image_when_the_colis_comes_after(alice, alice_api):
    photo_id = uuid.uuid4()
    create(alice_api, len(NOT_AN_IMAGE), NOT_AN_IMAGE, HTTP_UPLOAD_METADATA=metadata(photo_id))
    fields = photo_fields_for(ColisTask(initiated_by=alice, photo_id=photo_id))
    assert fields["photo_status"] == "failed" and fields["photo_error"] == "photo_not_image"


def test_it_checks_the_first_bytes_before_pillow(alice, colis_data):
    """A whole GIF (which Pillow reads) left as an upload: the same code as at the upload."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, "GIF")
    photo_id = uuid.uuid4()
    colis = colis_waiting(alice, colis_data, photo_id)
    upload_photo(alice, photo_id, buf.getvalue())
    assert attach_photo(str(photo_id)) == "failed"
    colis.refresh_from_db()
    assert colis.photo_error == "photo_not_image"


def test_it_still_takes_a_real_jpeg_through_the_whole_path(alice, alice_api, colis_data):
    data = jpeg_bytes(quadrants())
    photo_id = uuid.uuid4()
    colis = colis_waiting(alice, colis_data, photo_id)
    assert create(alice_api, len(data), data,
                  HTTP_UPLOAD_METADATA=metadata(photo_id)).status_code == 201
    assert attach_photo(str(photo_id)) == "ready"
    colis.refresh_from_db()
    assert colis.photo_status == "ready" and colis.image.name
