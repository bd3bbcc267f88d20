"""Shared fixtures: users alice and bob (agents), charlie (supervisor), their API clients."""

import pytest
from rest_framework.test import APIClient

from server.accounts.models import Device, User
from server.cargo import services
from server.cargo.models import Client, Tariff


def make_user(username: str, role: str) -> User:
    return User.objects.create_user(username=username, password="password", role=role)


@pytest.fixture
def alice(db) -> User:
    return make_user("alice", User.Role.AGENT_CHINE)


@pytest.fixture
def bob(db) -> User:
    return make_user("bob", User.Role.AGENT_CHINE)


@pytest.fixture
def charlie(db) -> User:
    return make_user("charlie", User.Role.SUPERVISOR)


def device_client(user: User, name: str = "tablette") -> APIClient:
    """An API client holding a fresh device token for `user` (client.device is the Device)."""
    device, token = Device.issue(user, name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    client.device, client.token = device, token
    return client


@pytest.fixture
def alice_api(alice) -> APIClient:
    return device_client(alice)


@pytest.fixture
def bob_api(bob) -> APIClient:
    return device_client(bob)


@pytest.fixture
def charlie_api(charlie) -> APIClient:
    return device_client(charlie)


@pytest.fixture
def tariffs(db) -> dict[str, Tariff]:
    rows = {
        "cargo": dict(unit="kg", rate="8500", divisor=6000, minimum="5000", round_to="50"),
        "express": dict(unit="kg", rate="12500", divisor=5000, minimum="10000", round_to="50"),
        "bateau": dict(unit="m3", rate="350000", divisor=1000000, minimum="25000", round_to="500"),
    }
    return {mode: Tariff.objects.create(mode=mode, valid_from="2020-01-01", **fields)
            for mode, fields in rows.items()}


@pytest.fixture
def client_row(db) -> Client:
    return Client.objects.create(nom="Diallo", prenom="Aminata", telephone="+221770000001",
                                 ville_destination="Dakar", pays_destination="Sénégal")


@pytest.fixture
def cargo_lot(alice):
    return services.open_lot(alice, "cargo")


@pytest.fixture
def colis_data(client_row, cargo_lot) -> dict:
    """A valid colis payload as a device sends it."""
    return {"client": client_row.pk, "lot": cargo_lot.pk, "poids": "12.5", "longueur": "40",
            "largeur": "30", "hauteur": "20", "mode_paiement": "non_paye",
            "description": "Pièces détachées"}


@pytest.fixture
def redis_clean():
    """An empty test Redis (queues, registries) before and after the test."""
    from tests.workers import flush_redis

    flush_redis()
    yield
    flush_redis()


@pytest.fixture
def inline_jobs(settings):
    """Materialise inline in the request (COLIS_ASYNC=0), as the seed's rollback flag does."""
    settings.COLIS_ASYNC = False


def item(op_id=None, op="create", **data) -> dict:
    import uuid

    return {"op_id": str(op_id or uuid.uuid4()), "op": op, "data": data}


def codes(errors: dict) -> dict:
    """{field: [code, ...]} of an answer's `error_codes` (or of a DomainError's `errors`)."""
    from server.codes import codes_of

    return {field: [e["code"] for e in entries] for field, entries in codes_of(errors).items()
            if isinstance(entries, list)}
