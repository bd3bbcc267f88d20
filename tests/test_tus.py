"""The tus 1.0 upload endpoint: tuspy as a real peer, and the protocol's edges by hand."""

import base64
import hashlib
import http.client
import os
import socket
import threading
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import django_rq
import pytest
import requests
from django.urls import include, path
from django.utils import timezone
from rq.job import Job
from tusclient import client as tus

from server.accounts.models import Device
from sync import uploads
from sync.models import Upload
from sync.photos import sweep_uploads

# Until server/urls.py includes sync.tus_urls, these tests route through this module.
urlpatterns = [path("api/v1/", include("sync.tus_urls")), path("", include("server.urls"))]
pytestmark = pytest.mark.urls(__name__)

URL = "/api/v1/uploads/"
TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}
CHUNK = "application/offset+octet-stream"
JPEG4 = b"\xff\xd8\xff\xdb"  # a JPEG's first bytes: a completed upload must start as an image


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def metadata(photo_id=None, **extra) -> str:
    values = {"photo_id": str(photo_id or uuid.uuid4()), **extra}
    return ",".join(f"{k} {b64(v)}" for k, v in values.items())


def sha1(data: bytes) -> str:
    return "sha1 " + base64.b64encode(hashlib.sha1(data).digest()).decode()


def create(api, length: int, body: bytes | None = None, **headers):
    headers = {**TUS, "HTTP_UPLOAD_LENGTH": str(length),
               "HTTP_UPLOAD_METADATA": metadata(), **headers}
    if body is None:
        return api.generic("POST", URL, **headers)
    return api.generic("POST", URL, data=body, content_type=CHUNK, **headers)


def patch(api, location: str, offset: int, body: bytes, **headers):
    return api.generic("PATCH", location, data=body, content_type=CHUNK,
                       HTTP_UPLOAD_OFFSET=str(offset), **{**TUS, **headers})


def stored(upload: Upload) -> bytes:
    with uploads.storage().open(upload.temp_name, "rb") as fh:
        return fh.read()


def upload_of(response) -> Upload:
    return Upload.objects.get(upload_id=response["Location"].rstrip("/").rsplit("/", 1)[1])


# Against the protocol, through the test client.

def test_it_describes_itself_on_options(client, settings):
    response = client.options(URL)
    assert response.status_code == 204
    assert response["Tus-Version"] == "1.0.0"
    assert set(response["Tus-Extension"].split(",")) == {
        "creation", "creation-with-upload", "expiration", "checksum", "termination"}
    assert response["Tus-Max-Size"] == str(settings.TUS_MAX_SIZE)
    assert "sha1" in response["Tus-Checksum-Algorithm"].split(",")


def test_it_creates_an_upload_under_a_server_chosen_name(alice_api, alice, settings):
    photo_id = uuid.uuid4()
    response = create(alice_api, 10, HTTP_UPLOAD_METADATA=metadata(
        photo_id, op_id=str(uuid.uuid4()), filename="../../etc/passwd"))
    assert response.status_code == 201
    assert response["Location"].startswith(URL)
    assert response["Upload-Offset"] == "0" and response["Upload-Expires"].endswith("GMT")
    upload = upload_of(response)
    assert upload.owner == alice and upload.photo_id == photo_id and upload.op_id
    assert upload.temp_name == str(upload.upload_id)
    assert upload.metadata["filename"] == "../../etc/passwd"  # kept as data, never as a path
    assert stored(upload) == b""


def test_it_takes_the_first_chunk_with_the_post(alice_api):
    body = os.urandom(3000)
    response = create(alice_api, 5000, body, HTTP_UPLOAD_CHECKSUM=sha1(body))
    assert response.status_code == 201 and response["Upload-Offset"] == "3000"
    assert stored(upload_of(response)) == body


def test_it_appends_chunks_and_reports_the_offset(alice_api):
    location = create(alice_api, 8)["Location"]
    assert patch(alice_api, location, 0, JPEG4)["Upload-Offset"] == "4"
    head = alice_api.head(location, **TUS)
    assert head.status_code == 200 and head["Upload-Offset"] == "4"
    assert head["Upload-Length"] == "8" and head["Cache-Control"] == "no-store"
    assert head["Upload-Metadata"].startswith("photo_id ")
    response = patch(alice_api, location, 4, b"efgh")
    assert response.status_code == 204 and "Upload-Expires" not in response
    upload = Upload.objects.get()
    assert upload.is_complete and stored(upload) == JPEG4 + b"efgh"


EMPTY_SAYS = {"fr": "Ce fichier photo est vide (0 octet) : il est refusé.",
              "en": "The photo file is empty (0 bytes): it is refused.",
              "zh-hans": "照片文件为空（0 字节）：已被拒绝。"}


@pytest.mark.parametrize("language", EMPTY_SAYS)
@pytest.mark.parametrize("body", [None, b""], ids=["no-body", "empty-body"])
def test_it_completes_an_empty_upload_at_its_creation_and_refuses_it(alice_api, settings,
                                                                    body, language):
    """A tus client creates an empty file's upload with no body and sends nothing after."""
    settings.UPLOAD_MAX_OPEN = 1
    length = {} if body is None else {"CONTENT_LENGTH": "0"}  # as an HTTP client sends it
    refused = create(alice_api, 0, body, HTTP_ACCEPT_LANGUAGE=language, **length)
    assert refused.status_code == 400 and EMPTY_SAYS[language] in refused.content.decode()
    upload = Upload.objects.get()
    assert upload.is_complete and (upload.offset, stored(upload)) == (0, b"")
    head = alice_api.head(f"{URL}{upload.upload_id}", **TUS)
    assert head.status_code == 200 and head["Upload-Offset"] == head["Upload-Length"] == "0"
    assert "Upload-Expires" not in head
    assert create(alice_api, 4).status_code == 201  # it holds no open-upload slot


@pytest.mark.django_db(transaction=True)  # on object storage, the parts go at the commit
def test_it_answers_a_patch_to_a_finished_upload_as_it_stands(alice_api):
    """A client resuming an upload that had finished sends an empty PATCH at its end: it
    changes nothing (on object storage the parts are gone: it was a 500) and takes no byte."""
    data = JPEG4 + b"efgh"
    location = create(alice_api, len(data), data)["Location"]
    attached = Upload.objects.get().completed_at
    response = patch(alice_api, location, len(data), b"", CONTENT_LENGTH="0")
    assert response.status_code == 204 and response["Upload-Offset"] == str(len(data))
    upload = Upload.objects.get()
    assert (upload.completed_at, stored(upload)) == (attached, data)
    assert patch(alice_api, location, len(data), b"x").status_code == 413


def test_it_refuses_a_wrong_offset_with_409(alice_api):
    location = create(alice_api, 8)["Location"]
    patch(alice_api, location, 0, b"abcd")
    assert patch(alice_api, location, 0, b"abcd").status_code == 409
    assert patch(alice_api, location, 6, b"gh").status_code == 409
    assert stored(Upload.objects.get()) == b"abcd"


def test_it_refuses_a_bad_checksum_with_460_and_keeps_the_upload(alice_api):
    location = create(alice_api, 8)["Location"]
    patch(alice_api, location, 0, JPEG4)
    response = patch(alice_api, location, 4, b"efgh", HTTP_UPLOAD_CHECKSUM=sha1(b"other"))
    assert response.status_code == 460
    assert alice_api.head(location, **TUS)["Upload-Offset"] == "4"
    assert stored(Upload.objects.get()) == JPEG4
    assert patch(alice_api, location, 4, b"efgh", HTTP_UPLOAD_CHECKSUM=sha1(b"efgh")
                 ).status_code == 204


def test_it_refuses_a_bad_checksum_on_creation(alice_api):
    response = create(alice_api, 4, b"abcd", HTTP_UPLOAD_CHECKSUM=sha1(b"abce"))
    assert response.status_code == 460 and not Upload.objects.exists()


@pytest.mark.parametrize("header", ["crc32 AAAA", "sha1 not*base64"])
def test_it_refuses_an_unreadable_checksum_with_400(alice_api, header):
    location = create(alice_api, 4)["Location"]
    assert patch(alice_api, location, 0, b"abcd", HTTP_UPLOAD_CHECKSUM=header
                 ).status_code == 400


def test_it_refuses_more_than_tus_max_size_with_413(alice_api, settings):
    settings.TUS_MAX_SIZE = 1000
    assert create(alice_api, 1001).status_code == 413
    assert create(alice_api, 1000).status_code == 201
    assert not Upload.objects.filter(length=1001).exists()


def test_it_reads_a_length_or_offset_of_thousands_of_digits_as_too_large(alice_api):
    # int() refuses strings of more than 4,300 digits: a 500 before this answer
    assert create(alice_api, "9" * 5000).status_code == 413
    assert create(alice_api, "0" * 5000 + "4").status_code == 201  # leading zeros: 4
    created = create(alice_api, 4)
    assert patch(alice_api, created["Location"], "1" * 5000, b"abcd").status_code == 409
    assert upload_of(created).offset == 0


def test_it_refuses_a_chunk_past_the_upload_length_with_413(alice_api):
    location = create(alice_api, 4)["Location"]
    assert patch(alice_api, location, 0, b"abcde").status_code == 413
    assert Upload.objects.get().offset == 0


def test_it_answers_412_to_another_protocol_version(alice_api):
    response = alice_api.generic("POST", URL, HTTP_TUS_RESUMABLE="0.2.2",
                                 HTTP_UPLOAD_LENGTH="4", HTTP_UPLOAD_METADATA=metadata())
    assert response.status_code == 412 and response["Tus-Version"] == "1.0.0"
    assert alice_api.generic("POST", URL, HTTP_UPLOAD_LENGTH="4").status_code == 412


@pytest.mark.parametrize("meta", ["", f"op_id {b64(str(uuid.uuid4()))}",
                                  f"photo_id {b64('not-a-uuid')}", "photo_id ***"])
def test_it_requires_a_photo_id_in_the_metadata(alice_api, meta):
    assert create(alice_api, 4, HTTP_UPLOAD_METADATA=meta).status_code == 400


@pytest.mark.parametrize("length", ["", "-1", "abc", "²"])
def test_it_requires_an_upload_length(alice_api, length):
    assert create(alice_api, 4, HTTP_UPLOAD_LENGTH=length).status_code == 400


def test_it_hides_an_upload_from_other_users(alice_api, bob_api):
    location = create(alice_api, 8)["Location"]
    assert bob_api.head(location, **TUS).status_code == 404
    assert patch(bob_api, location, 0, b"abcd").status_code == 404
    assert bob_api.delete(location, **TUS).status_code == 404
    assert alice_api.head(location, **TUS)["Upload-Offset"] == "0"


def test_it_lets_only_agents_upload(client, charlie_api):
    assert client.generic("POST", URL, HTTP_UPLOAD_LENGTH="4", **TUS).status_code == 401
    assert create(charlie_api, 4).status_code == 403


def test_it_deletes_an_upload_on_termination(alice_api):
    location = create(alice_api, 8)["Location"]
    patch(alice_api, location, 0, b"abcd")
    name = Upload.objects.get().temp_name
    assert alice_api.delete(location, **TUS).status_code == 204
    assert not Upload.objects.exists() and not uploads.storage().exists(name)
    assert alice_api.head(location, **TUS).status_code == 404


def test_it_expires_unfinished_uploads_and_the_sweeper_deletes_them(alice_api):
    location = create(alice_api, 8)["Location"]
    patch(alice_api, location, 0, b"abcd")
    done = create(alice_api, 4, JPEG4)
    Upload.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert alice_api.head(location, **TUS).status_code == 404
    assert patch(alice_api, location, 4, b"efgh").status_code == 404
    assert alice_api.head(done["Location"], **TUS).status_code == 200  # finished: kept
    expired = Upload.objects.get(completed_at__isnull=True)
    assert sweep_uploads()["uploads_expired"] == 1
    assert not uploads.storage().exists(expired.temp_name)
    assert list(Upload.objects.all()) == [upload_of(done)]


# With tuspy, a real client, against a live server.

@pytest.fixture
def live(live_server, alice, settings):
    """The upload URL and the headers of a device of alice's."""
    settings.COLIS_ASYNC = False
    _, token = Device.issue(alice, "tablette")
    return live_server.url + URL, {"Authorization": f"Token {token}"}


def cut_mid_chunk(url: str, headers: dict, offset: int, data: bytes) -> None:
    """Send a PATCH announcing `data` but only its first half, then drop the link."""
    parts = urlsplit(url)
    lines = [f"PATCH {parts.path} HTTP/1.1", f"Host: {parts.netloc}", "Tus-Resumable: 1.0.0",
             f"Content-Type: {CHUNK}", f"Upload-Offset: {offset}",
             f"Content-Length: {len(data)}", *(f"{k}: {v}" for k, v in headers.items())]
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + data[: len(data) // 2])
        sock.shutdown(socket.SHUT_WR)
        sock.recv(4096)  # whatever the server says once it has given up on the rest


@pytest.mark.django_db(transaction=True)
def test_it_resumes_a_2mb_upload_cut_after_every_chunk(live, tmp_path):
    url, headers = live
    data = JPEG4 + os.urandom(2 * 1024 * 1024 - 4)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(data)
    chunk_size = 300 * 1024
    first = tus.TusClient(url, headers=headers).uploader(
        file_path=str(photo), chunk_size=chunk_size, upload_checksum=True,
        metadata={"photo_id": str(uuid.uuid4()), "filename": "photo.jpg"})
    first.upload_chunk()  # creates the upload, sends one chunk; then the link drops
    location, chunks = first.url, 1
    while True:
        # A new client after each cut, as after a reload: it asks the server where it was.
        uploader = tus.TusClient(url, headers=headers).uploader(
            file_path=str(photo), url=location, chunk_size=chunk_size, upload_checksum=True)
        if uploader.offset == len(data):
            break
        if chunks == 3:  # once, the link drops in the middle of a chunk
            cut_mid_chunk(location, headers, uploader.offset, data[uploader.offset:][:chunk_size])
            # What arrived is kept: the resume starts inside the chunk, not at its start.
            assert uploader.offset < Upload.objects.get().offset < uploader.offset + chunk_size
            chunks += 1
            continue
        uploader.upload_chunk()
        chunks += 1
    upload = Upload.objects.get()
    assert chunks >= len(data) // chunk_size
    assert upload.is_complete and upload.offset == len(data)
    assert stored(upload) == data


@pytest.mark.django_db(transaction=True)
def test_it_uploads_in_one_go_with_tuspy(live, tmp_path):
    url, headers = live
    data = JPEG4 + os.urandom(700_000)
    (tmp_path / "p").write_bytes(data)
    tus.TusClient(url, headers=headers).uploader(
        file_path=str(tmp_path / "p"), chunk_size=256 * 1024, upload_checksum=True,
        metadata={"photo_id": str(uuid.uuid4())}).upload()
    assert stored(Upload.objects.get()) == data


@pytest.mark.django_db(transaction=True)
def test_it_appends_one_of_two_racing_patches(live):
    url, headers = live
    headers = {**headers, "Tus-Resumable": "1.0.0"}
    created = requests.post(url, headers={**headers, "Upload-Length": "400000",
                                          "Upload-Metadata": metadata()})
    location = url.split("/api/")[0] + created.headers["Location"]
    bodies = [bytes([n]) * 200_000 for n in (1, 2)]
    results = []

    def send(body):
        results.append(requests.patch(location, data=body, headers={
            **headers, "Upload-Offset": "0", "Content-Type": CHUNK}).status_code)

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [204, 409]
    assert stored(Upload.objects.get()) in bodies


@pytest.mark.django_db(transaction=True)
def test_it_enqueues_attach_photo_when_an_upload_completes(live, settings):
    settings.COLIS_ASYNC = True
    url, headers = live
    photo_id = str(uuid.uuid4())
    response = requests.post(url, data=JPEG4, headers={
        **headers, "Tus-Resumable": "1.0.0", "Upload-Length": "4", "Content-Type": CHUNK,
        "Upload-Metadata": metadata(photo_id)})
    assert response.status_code == 201
    connection = django_rq.get_connection("colis")
    job = Job.fetch(f"attach-{photo_id}", connection=connection)
    assert job.func_name == "sync.photos.attach_photo" and job.args == (photo_id,)
    assert job.origin == "colis"
    django_rq.get_queue("colis").remove(job)
    job.delete()



def chunked(url: str, method: str, path: str, headers: dict, body: bytes) -> tuple[int, str]:
    """Send `body` with Transfer-Encoding: chunked and no Content-Length, as some clients do
    (Django's test client always sets a Content-Length); the status and the reason."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, path, body=iter([body[:3], body[3:]]), encode_chunked=True,
                     headers={**headers, "Tus-Resumable": "1.0.0", "Content-Type": CHUNK,
                              "Transfer-Encoding": "chunked"})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True)
def test_it_refuses_a_chunked_patch_with_411_and_drops_nothing_silently(live):
    url, headers = live
    created = requests.post(url, headers={**headers, "Tus-Resumable": "1.0.0",
                                          "Upload-Length": "8", "Upload-Metadata": metadata()})
    location = urlsplit(created.headers["Location"]).path
    status, reason = chunked(url, "PATCH", location, {**headers, "Upload-Offset": "0"},
                             JPEG4 + b"efgh")
    assert (status, reason) == (411, "Content-Length is required (no chunked transfer encoding).")
    assert Upload.objects.get().offset == 0  # nothing appended, nothing acknowledged
    done = requests.patch(url.split("/api/")[0] + location, data=JPEG4 + b"efgh", headers={
        **headers, "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": CHUNK})
    assert done.status_code == 204 and stored(Upload.objects.get()) == JPEG4 + b"efgh"


@pytest.mark.django_db(transaction=True)
def test_it_refuses_a_chunked_creation_with_upload_with_411(live):
    url, headers = live
    status, _ = chunked(url, "POST", urlsplit(url).path,
                        {**headers, "Upload-Length": "8", "Upload-Metadata": metadata()},
                        JPEG4 + b"efgh")
    assert status == 411 and not Upload.objects.exists()


def cut_creation(url: str, headers: dict, photo_id: str, data: bytes) -> http.client.HTTPResponse:
    """A creation-with-upload announcing `data` whose body stops halfway (the link drops as
    the tablet sends it); returns the server's answer, read before the socket closes."""
    parts = urlsplit(url)
    lines = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}", "Tus-Resumable: 1.0.0",
             f"Content-Type: {CHUNK}", f"Upload-Length: {len(data)}",
             f"Upload-Metadata: {metadata(photo_id)}", f"Content-Length: {len(data)}",
             *(f"{k}: {v}" for k, v in headers.items())]
    sock = socket.create_connection((parts.hostname, parts.port))
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + data[: len(data) // 2])
    sock.shutdown(socket.SHUT_WR)
    response = http.client.HTTPResponse(sock)
    response.begin()
    response.read()
    sock.close()
    return response


@pytest.mark.django_db(transaction=True)
def test_a_creation_with_upload_cut_short_keeps_what_arrived_and_resumes(live):
    url, headers = live
    data = JPEG4 + os.urandom(300_000)
    answer = cut_creation(url, headers, str(uuid.uuid4()), data)
    assert answer.status == 201
    half = int(answer.getheader("Upload-Offset"))
    assert 0 < half < len(data) and half == Upload.objects.get().offset
    location = url.split("/api/")[0] + answer.getheader("Location")
    tus_headers = {**headers, "Tus-Resumable": "1.0.0"}
    head = requests.head(location, headers=tus_headers)
    assert head.status_code == 200 and int(head.headers["Upload-Offset"]) == half
    assert head.headers["Upload-Length"] == str(len(data))
    rest = requests.patch(location, data=data[half:], headers={
        **tus_headers, "Upload-Offset": str(half), "Content-Type": CHUNK})
    assert rest.status_code == 204 and int(rest.headers["Upload-Offset"]) == len(data)
    upload = Upload.objects.get()
    assert upload.is_complete and stored(upload) == data


@pytest.mark.django_db(transaction=True)
def test_a_creation_again_replaces_the_unfinished_upload_of_its_photo(live, settings):
    """The tablet never got the answer of a cut creation: it creates the photo's upload
    again, whole. The half-upload goes (file and row), it holds no open-upload slot, and the
    photo has one complete upload; another photo's unfinished upload is left alone."""
    settings.UPLOAD_MAX_OPEN = 2
    url, headers = live
    tus_headers = {**headers, "Tus-Resumable": "1.0.0"}
    other = requests.post(url, headers={**tus_headers, "Upload-Length": "10",
                                        "Upload-Metadata": metadata()})
    assert other.status_code == 201
    photo_id, data = str(uuid.uuid4()), JPEG4 + os.urandom(200_000)
    for _ in range(3):  # cut three times: past UPLOAD_MAX_OPEN if each kept a slot
        assert cut_creation(url, headers, photo_id, data).status == 201
    cut = Upload.objects.get(photo_id=photo_id)
    assert not cut.is_complete and uploads.storage().exists(cut.temp_name)
    whole = requests.post(url, data=data, headers={
        **tus_headers, "Upload-Length": str(len(data)), "Content-Type": CHUNK,
        "Upload-Metadata": metadata(photo_id)})
    assert whole.status_code == 201 and int(whole.headers["Upload-Offset"]) == len(data)
    assert not Upload.objects.filter(pk=cut.pk).exists()
    assert not uploads.storage().exists(cut.temp_name)
    done = Upload.objects.get(photo_id=photo_id)
    assert done.is_complete and stored(done) == data
    assert Upload.objects.filter(completed_at__isnull=True).count() == 1  # the other photo's
    again = requests.post(url, data=data, headers={  # sent twice: the complete one stays
        **tus_headers, "Upload-Length": str(len(data)), "Content-Type": CHUNK,
        "Upload-Metadata": metadata(photo_id)})
    assert again.status_code == 201
    assert Upload.objects.filter(photo_id=photo_id, completed_at__isnull=False).count() == 2
