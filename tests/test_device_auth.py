from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from server.accounts.models import Device, hash_token

LOGIN = "/api/v1/auth/device/"


def test_it_logs_a_device_in_and_shows_the_token_once(alice):
    response = APIClient().post(LOGIN, {"username": "alice", "password": "password",
                                        "device_name": "Tablette GZ-1"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["user"] == {"id": alice.pk, "username": "alice", "role": "agent_chine"}
    device = Device.objects.get(pk=body["device_id"])
    assert device.name == "Tablette GZ-1"
    assert device.token_hash == hash_token(body["token"])
    assert body["token"] not in device.token_hash


def test_it_refuses_a_wrong_password(alice):
    response = APIClient().post(LOGIN, {"username": "alice", "password": "nope",
                                        "device_name": "x"}, format="json")
    assert response.status_code == 401
    assert Device.objects.count() == 0


def test_it_needs_every_field(db):
    response = APIClient().post(LOGIN, {"username": "alice"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"password", "device_name"}


def test_it_accepts_the_token_and_records_contact(alice_api):
    response = alice_api.get(reverse("lot-list"))
    assert response.status_code == 200
    alice_api.device.refresh_from_db()
    assert alice_api.device.last_seen_at is not None


def test_it_refuses_a_revoked_token(alice_api):
    alice_api.device.revoke()
    assert alice_api.get(reverse("lot-list")).status_code == 401


def test_it_refuses_an_unknown_token_and_no_token(db):
    client = APIClient()
    assert client.get(reverse("lot-list")).status_code in (401, 403)
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get(reverse("lot-list")).status_code == 401


def test_it_throttles_login_attempts(alice, settings):
    cache.clear()
    client = APIClient()
    codes = [client.post(LOGIN, {"username": "alice", "password": "bad", "device_name": "x"},
                         format="json").status_code for _ in range(12)]
    assert codes[:10] == [401] * 10
    assert codes[-1] == 429
    cache.clear()
