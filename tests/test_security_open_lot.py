"""Opening lots is limited per user (OPEN_LOT_RATE), counted in Redis for every door."""

import uuid

import pytest

from server.cargo import services
from server.cargo.models import Lot
from tests.conftest import codes, item
from tests.security_helpers import cache_keys, counters, redis_down  # noqa: F401

pytestmark = pytest.mark.usefixtures("counters")


@pytest.fixture
def three_an_hour(settings):
    settings.OPEN_LOT_RATE = "3/hour"


def test_it_refuses_a_lot_past_the_rate(alice, bob, three_an_hour):
    for _ in range(3):
        services.open_lot(alice, "cargo")
    with pytest.raises(services.InvalidData) as refused:
        services.open_lot(alice, "express")
    assert codes(refused.value.errors) == {"type_lot": ["open_lot_rate"]}
    assert refused.value.code == "open_lot_rate"
    assert Lot.objects.filter(agent_createur=alice).count() == 3
    services.open_lot(bob, "cargo")  # each user has their own count


def test_it_keeps_the_count_in_redis(alice, three_an_hour):
    services.open_lot(alice, "cargo")
    services.open_lot(alice, "cargo")
    [(key, value)] = cache_keys(f"open_lot_rate:{alice.pk}:*").items()
    assert int(value) == 2


def test_it_answers_a_resent_lot_without_counting_it(alice, three_an_hour):
    op_id = uuid.uuid4()
    first = services.open_lot(alice, "cargo", op_id=op_id)
    for _ in range(5):
        assert services.open_lot(alice, "cargo", op_id=op_id) == first
    services.open_lot(alice, "cargo")
    services.open_lot(alice, "cargo")


def test_it_answers_a_refused_open_lot_item_per_item(alice_api, three_an_hour, redis_clean):
    items = [item(op="open_lot", type_lot="cargo") for _ in range(4)]
    answers = alice_api.post("/api/v1/sync/", {"items": items}, format="json").json()["items"]
    assert [a["result"] for a in answers] == ["accepted"] * 3 + ["invalid"]
    assert codes(answers[3]["error_codes"]) == {"type_lot": ["open_lot_rate"]}


def test_it_has_no_limit_when_the_rate_is_empty(alice, settings):
    settings.OPEN_LOT_RATE = ""
    for _ in range(30):
        services.open_lot(alice, "cargo")
    assert cache_keys("open_lot_rate:*") == {}


@pytest.mark.usefixtures("redis_down")
def test_it_opens_the_lot_while_redis_is_unreachable(alice, three_an_hour):
    for _ in range(5):
        services.open_lot(alice, "cargo")
    assert Lot.objects.filter(agent_createur=alice).count() == 5


def test_it_says_so_on_the_lots_page_past_the_rate(alice, three_an_hour):
    from tests.web_helpers import web

    client = web(alice)
    client.raise_request_exception = False
    for _ in range(3):
        assert client.post("/lots/ouvrir/", {"type_lot": "cargo"}).status_code == 302
    refused = client.post("/lots/ouvrir/", {"type_lot": "cargo"}, follow=True)
    assert refused.status_code == 200
    assert "Trop de lots ouverts" in refused.content.decode()
    assert Lot.objects.filter(agent_createur=alice).count() == 3
