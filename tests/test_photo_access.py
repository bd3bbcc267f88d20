"""Private photos: served by server/photos.py to who may see the colis, never from /media/."""

import uuid
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.utils import timezone

from server.accounts.models import Device
from server.cargo import services
from server.cargo.models import Colis
from server.photos import photo_url
from sync import uploads
from sync.models import ColisTask, Upload
from sync.photos import attach_photo

from .conftest import device_client
from .test_images import gps_exif, jpeg_bytes, quadrants
from .web_helpers import web

PHOTO = jpeg_bytes(quadrants(), gps_exif(6))


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload_photo(owner, photo_id, data: bytes = PHOTO) -> Upload:
    """A completed tus upload, as a device leaves it."""
    now = timezone.now()
    upload_id = uuid.uuid4()
    name = uploads.storage().save(str(upload_id), ContentFile(data))
    return Upload.objects.create(upload_id=upload_id, owner=owner, photo_id=photo_id,
                                 length=len(data), offset=len(data), temp_name=name,
                                 expires_at=now + timedelta(days=1), completed_at=now)


@pytest.fixture
def colis(alice, colis_data) -> Colis:
    """Alice's colis with its photo processed (image and thumbnail in the default storage)."""
    photo_id = uuid.uuid4()
    made = services.create_colis(alice, colis_data, photo_id=photo_id)
    ColisTask.objects.create(op_id=uuid.uuid4(), operation="create", colis_data={},
                             payload_hash="-", initiated_by=alice, colis=made,
                             photo_id=photo_id, status="completed")
    upload_photo(alice, photo_id)
    assert attach_photo(str(photo_id)) == "ready"
    made.refresh_from_db()
    return made


def stored(name: str) -> bytes:
    with default_storage.open(name, "rb") as fh:
        return fh.read()


def image(client, colis, kind: str = "image"):
    return client.get(f"/photos/{colis.pk}/{kind}")


def test_it_refuses_an_anonymous_visitor_with_401(colis):
    for kind in ("image", "thumb"):
        assert image(web(), colis, kind).status_code == 401


def test_it_refuses_a_revoked_or_expired_token_with_401(alice, colis, settings):
    revoked = device_client(alice)
    Device.objects.filter(pk=revoked.device.pk).revoke()
    assert image(revoked, colis).status_code == 401
    expired = device_client(alice)
    Device.objects.filter(pk=expired.device.pk).update(
        last_seen_at=timezone.now() - timedelta(days=settings.TOKEN_IDLE_DAYS + 1),
        created_at=timezone.now() - timedelta(days=settings.TOKEN_IDLE_DAYS + 1))
    assert image(expired, colis).status_code == 401


@pytest.mark.parametrize("who", ["owner_session", "owner_token", "supervisor", "other_agent"])
def test_it_serves_the_photo_to_who_may_see_the_colis(who, colis, alice, bob, charlie):
    """The owner (page or tablet), a supervisor, and another China agent: lots and their
    colis are shared by everyone logged in, as on the lot pages (README, Security)."""
    client = {"owner_session": lambda: web(alice), "owner_token": lambda: device_client(alice),
              "supervisor": lambda: web(charlie), "other_agent": lambda: web(bob)}[who]()
    for kind, field in (("image", colis.image), ("thumb", colis.thumbnail)):
        response = image(client, colis, kind)
        assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
        assert "private" in response["Cache-Control"]
        assert b"".join(response.streaming_content) == stored(field.name)


def test_it_answers_404_for_a_colis_without_a_photo_or_that_does_not_exist(alice, colis,
                                                                          colis_data):
    bare = services.create_colis(alice, colis_data)
    assert image(web(alice), bare).status_code == 404
    assert web(alice).get(f"/photos/{colis.pk + 1000}/image").status_code == 404
    missing = web(alice).get(f"/photos/{colis.pk + 1000}/thumb", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert missing.json() == {"detail": "未找到，或您的账户无权查看。"}  # no model named


def test_it_answers_404_when_the_file_is_gone_from_the_storage(alice, colis):
    default_storage.delete(colis.image.name)
    assert image(web(alice), colis).status_code == 404


def test_it_serves_nothing_under_media(alice, charlie, colis):
    upload = upload_photo(alice, uuid.uuid4())
    for client in (web(), web(alice), web(charlie)):
        assert client.get(f"/media/{colis.image.name}").status_code == 404
        assert client.get(f"/media/{colis.thumbnail.name}").status_code == 404
        assert client.get(f"/media/tmp-uploads/{upload.upload_id}").status_code == 404
        assert client.get(f"/media/{upload.temp_name}").status_code == 404


def test_it_keeps_raw_uploads_outside_media_root(alice, settings, media):
    upload = upload_photo(alice, uuid.uuid4())
    path = uploads.storage().path(upload.temp_name)
    assert path.startswith(str(settings.UPLOADS_ROOT))
    assert not path.startswith(str(media)) and not str(media).startswith(
        str(settings.UPLOADS_ROOT))


def test_it_gives_private_urls_in_the_task_and_on_the_lot_page(alice, colis):
    task = device_client(alice).get("/api/v1/sync/changes").json()["items"][0]
    assert task["colis"]["image_url"] == photo_url(colis, "image")
    assert task["colis"]["image_url"].startswith(f"/photos/{colis.pk}/image?v=")
    assert task["colis"]["thumbnail_url"].startswith(f"/photos/{colis.pk}/thumb?v=")
    page = web(alice).get(f"/lots/{colis.lot_id}/").content.decode()
    assert f'src="/photos/{colis.pk}/thumb?v=' in page and "/media/" not in page
    assert image(web(alice), colis, "thumb").status_code == 200


def test_it_hands_the_file_to_nginx_with_x_accel_redirect(alice, colis, settings):
    settings.PHOTOS_X_ACCEL = "/protected/"
    response = image(web(alice), colis)
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/protected/{colis.image.name}"
    assert response["Content-Type"] == "image/jpeg" and "private" in response["Cache-Control"]
    assert image(web(), colis).status_code == 401  # nginx is told nothing for a refusal


def test_it_redirects_to_the_object_storage_url_when_files_are_not_on_disk(alice, colis,
                                                                             settings):
    """Object storage (django-storages' S3 and the like) gives a signed url(). Django's
    InMemoryStorage is not on this disk either; its url() stands for the signed one."""
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.InMemoryStorage",
        "OPTIONS": {"base_url": "https://objects.example/bucket/"}}}
    storages["default"].save(colis.image.name, ContentFile(PHOTO))
    response = image(web(alice), colis)
    assert response.status_code == 302
    assert response["Location"] == f"https://objects.example/bucket/{colis.image.name}"
    assert "private" in response["Cache-Control"]
