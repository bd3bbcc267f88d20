"""Login throttles: per address and per username, proxies not believed, shared in Redis."""

import pickle

import pytest
from django.test import Client as WebClient
from rest_framework.test import APIClient

from server.accounts.throttles import client_ip
from server.embedded_redis import stop
from tests.security_helpers import cache_keys, counters, free_port, post_json, redis_down, start_gunicorn  # noqa: F401

LOGIN = "/api/v1/auth/device/"
LIMIT = 10  # LOGIN_FAILURE_LIMIT and LOGIN_THROTTLE's 10/min

pytestmark = pytest.mark.usefixtures("counters")


def device_login(username, password, remote="10.0.0.1", forwarded=None) -> int:
    headers = {"REMOTE_ADDR": remote}
    if forwarded:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return APIClient().post(LOGIN, {"username": username, "password": password,
                                    "device_name": "t"}, format="json", **headers).status_code


def test_it_takes_remote_addr_and_ignores_forwarded_for_by_default(rf):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(request) == "10.0.0.1"


def test_it_takes_the_address_our_proxy_saw_when_one_is_trusted(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    spoofed = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4")
    assert client_ip(spoofed) == "1.2.3.4"
    direct = rf.get("/", REMOTE_ADDR="127.0.0.1")
    assert client_ip(direct) == "127.0.0.1"


def test_it_locks_out_an_address_whatever_forwarded_for_says(alice, bob):
    codes = [device_login(f"user{i}", "bad", forwarded=f"203.0.113.{i}") for i in range(40)]
    assert codes[:LIMIT - 1] == [401] * (LIMIT - 1)
    assert set(codes[LIMIT - 1:]) == {429}
    assert device_login("alice", "password", forwarded="198.51.100.7") == 429
    assert device_login("alice", "password", remote="10.0.0.2") == 201


def test_it_locks_out_a_username_failing_from_many_addresses(alice, bob):
    codes = [device_login("alice", "bad", remote=f"10.1.0.{i}") for i in range(LIMIT)]
    assert codes == [401] * (LIMIT - 1) + [429]
    assert device_login("alice", "password", remote="10.2.0.1") == 429
    assert device_login("bob", "password", remote="10.2.0.1") == 201


def test_it_throttles_every_login_request_of_an_address(alice):
    codes = [device_login("alice", "password", forwarded=f"203.0.113.{i}") for i in range(LIMIT + 1)]
    assert codes == [201] * LIMIT + [429]


def test_it_counts_an_address_behind_a_trusted_proxy(alice, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    codes = [device_login(f"user{i}", "bad", remote="127.0.0.1", forwarded=f"6.6.6.{i}, 1.2.3.4")
             for i in range(LIMIT)]
    assert codes[-1] == 429
    assert device_login("alice", "password", remote="127.0.0.1", forwarded="1.2.3.5") == 201


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_it_locks_out_the_web_logins(alice, path):
    codes = [WebClient(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").post(
        path, {"username": f"user{i}", "password": "bad"}).status_code for i in range(LIMIT + 2)]
    assert codes[:LIMIT - 1] == [200] * (LIMIT - 1)  # the form again, with its error
    assert set(codes[LIMIT - 1:]) == {429}
    locked = WebClient(REMOTE_ADDR="10.0.0.1").post(path, {"username": "alice",
                                                           "password": "password"})
    assert locked.status_code == 429
    assert "réessayez dans 15 minutes" in locked.content.decode()
    assert int(locked["Retry-After"]) == 15 * 60


def test_it_locks_out_a_username_on_every_door(alice):
    for i in range(LIMIT - 1):
        WebClient(REMOTE_ADDR=f"10.3.0.{i}").post("/login/", {"username": "alice", "password": "x"})
    assert device_login("alice", "bad", remote="10.4.0.1") == 429
    assert WebClient(REMOTE_ADDR="10.4.0.2").post(
        "/admin/login/", {"username": "alice", "password": "password"}).status_code == 429


@pytest.mark.django_db(transaction=True)
def test_it_shares_the_counters_between_processes_through_redis(django_user_model):
    django_user_model.objects.create_user("alice", password="password")
    for i in range(LIMIT - 1):
        assert device_login("alice", "bad", remote="127.0.0.1", forwarded=f"203.0.113.{i}") == 401
    counts = {key: int(value) for key, value in cache_keys("axes-*").items()}
    assert sorted(counts.values()) == [LIMIT - 1, LIMIT - 1]  # one per address, one per username
    times = pickle.loads(cache_keys("throttle_login_127.0.0.1")["colis:1:throttle_login_127.0.0.1"])
    assert len(times) == LIMIT - 1  # DRF's request times for the address
    port = free_port()
    node = start_gunicorn(port)
    try:
        url = f"http://127.0.0.1:{port}{LOGIN}"
        assert post_json(url, {"username": "alice", "password": "bad", "device_name": "t"},
                         {"X-Forwarded-For": "198.51.100.1"}) == 429
    finally:
        stop(node)
    assert sorted(int(v) for v in cache_keys("axes-*").values()) == [LIMIT, LIMIT]
    assert device_login("alice", "password", remote="10.9.9.9") == 429  # the username, here too


@pytest.mark.usefixtures("redis_down")
def test_it_lets_logins_through_while_redis_is_unreachable(alice):
    assert device_login("alice", "bad") == 401
    assert device_login("alice", "password") == 201
    page = WebClient().post("/login/", {"username": "alice", "password": "password"})
    assert page.status_code == 302
