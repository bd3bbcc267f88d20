from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from server.accounts.models import Device, hash_token
from tests.conftest import device_client
from tests.security_helpers import counters  # noqa: F401

LOGIN = "/api/v1/auth/device/"
LOGOUT = "/api/v1/auth/logout/"


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


@pytest.mark.usefixtures("counters")
def test_it_locks_out_after_ten_wrong_passwords(alice):
    client = APIClient()
    codes = [client.post(LOGIN, {"username": "alice", "password": "bad", "device_name": "x"},
                         format="json").status_code for _ in range(10)]
    assert codes == [401] * 9 + [429]
    good = client.post(LOGIN, {"username": "alice", "password": "password", "device_name": "x"},
                       format="json", REMOTE_ADDR="10.0.0.9")
    assert good.status_code == 429 and good.json()["code"] == "login_locked"
    assert Device.objects.count() == 0


def test_it_logs_a_device_out_for_good(alice_api):
    assert alice_api.post(LOGOUT).status_code == 204
    alice_api.device.refresh_from_db()
    assert alice_api.device.is_revoked
    assert alice_api.get(reverse("lot-list")).status_code == 401
    assert alice_api.post(LOGOUT).status_code == 401


def test_it_logs_out_only_a_device(alice):
    from tests.web_helpers import web

    assert web(alice).post(LOGOUT).status_code in (401, 403)


def test_it_refuses_a_token_idle_too_long(alice_api, settings):
    settings.TOKEN_IDLE_DAYS = 60
    device = alice_api.device
    Device.objects.filter(pk=device.pk).update(last_seen_at=timezone.now() - timedelta(days=59))
    assert alice_api.get(reverse("lot-list")).status_code == 200
    Device.objects.filter(pk=device.pk).update(last_seen_at=timezone.now() - timedelta(days=61))
    assert alice_api.get(reverse("lot-list")).status_code == 401


def test_it_counts_idleness_from_the_login_when_never_seen(alice_api, settings):
    settings.TOKEN_IDLE_DAYS = 10
    Device.objects.filter(pk=alice_api.device.pk).update(
        created_at=timezone.now() - timedelta(days=11))
    assert alice_api.get(reverse("lot-list")).status_code == 401


def test_it_revokes_every_device_of_a_user_whose_password_changes(alice, bob):
    tablets = [device_client(alice, "GZ-1"), device_client(alice, "GZ-2")]
    bobs = device_client(bob)
    alice.set_password("a new one")
    alice.save()
    for tablet in tablets:
        assert tablet.get(reverse("lot-list")).status_code == 401
    assert bobs.get(reverse("lot-list")).status_code == 200


def test_it_keeps_the_devices_when_the_user_is_saved_without_a_new_password(alice_api, alice):
    alice.first_name = "Li"
    alice.save()
    assert alice_api.get(reverse("lot-list")).status_code == 200


def test_it_revokes_the_devices_on_a_password_change_in_the_admin(alice_api, alice):
    from django.contrib.auth import get_user_model

    from tests.web_helpers import web

    admin = get_user_model().objects.create_superuser("root", password="x", role="admin")
    response = web(admin).post(f"/admin/accounts/user/{alice.pk}/password/",
                               {"password1": "Nouveau-mot-2026", "password2": "Nouveau-mot-2026",
                                "usable_password": "true"})
    assert response.status_code == 302
    assert alice_api.get(reverse("lot-list")).status_code == 401
