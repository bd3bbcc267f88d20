from decimal import Decimal

import pytest

from server.cargo import services
from server.cargo.models import Colis
from tests.conftest import codes


def test_it_creates_a_priced_colis_in_an_open_lot(alice, tariffs, colis_data):
    colis = services.create_colis(alice, colis_data)
    assert colis.type_transport == "cargo"  # from the lot
    assert colis.prix_calcule == Decimal("106250.00")  # 12.5 kg × 8500
    assert colis.tariff == tariffs["cargo"]
    assert colis.version == 1 and colis.statut == "receptionne_chine"


def test_it_refuses_a_closed_lot(alice, tariffs, colis_data, cargo_lot):
    services.close_lot(cargo_lot, alice)
    with pytest.raises(services.InvalidData) as info:
        services.create_colis(alice, colis_data)
    assert codes(info.value.errors) == {"lot": ["lot_closed"]}


def test_it_refuses_another_transport_than_the_lots(alice, colis_data):
    with pytest.raises(services.InvalidData) as info:
        services.create_colis(alice, {**colis_data, "type_transport": "bateau"})
    assert set(info.value.errors) == {"type_transport"}


@pytest.mark.parametrize("field,value", [("poids", "0"), ("poids", "-1"), ("longueur", "9000"),
                                         ("hauteur", "abc"), ("largeur", None),
                                         ("poids", "NaN")])
def test_it_refuses_bad_measures(alice, colis_data, field, value):
    with pytest.raises(services.InvalidData) as info:
        services.create_colis(alice, {**colis_data, field: value})
    assert list(info.value.errors) == [field]


def test_it_refuses_an_unknown_client(alice, colis_data):
    with pytest.raises(services.InvalidData) as info:
        services.create_colis(alice, {**colis_data, "client": 999999})
    assert codes(info.value.errors) == {"client": ["client_not_found"]}


def test_it_updates_with_the_current_version_and_reprices(alice, tariffs, colis_data):
    colis = services.create_colis(alice, colis_data)
    updated = services.update_colis(colis.pk, 1, {"poids": "20"}, alice)
    assert updated.version == 2
    assert updated.prix_calcule == Decimal("170000.00")


def test_it_refuses_a_stale_version_without_overwriting(alice, tariffs, colis_data):
    colis = services.create_colis(alice, colis_data)
    services.update_colis(colis.pk, 1, {"description": "first"}, alice)
    with pytest.raises(services.VersionConflict) as info:
        services.update_colis(colis.pk, 1, {"description": "second"}, alice)
    assert info.value.current.version == 2
    assert Colis.objects.get(pk=colis.pk).description == "first"


def test_it_keeps_the_price_it_was_given_when_tariffs_change(alice, tariffs, colis_data):
    colis = services.create_colis(alice, colis_data)
    tariffs["cargo"].rate = Decimal("1")
    tariffs["cargo"].save()
    colis.refresh_from_db()
    assert colis.prix_calcule == Decimal("106250.00")


def test_it_leaves_a_colis_unpriced_without_a_tariff(alice, colis_data):
    assert services.create_colis(alice, colis_data).prix_calcule is None


def test_it_does_not_close_a_lot_twice(alice, cargo_lot):
    services.close_lot(cargo_lot, alice)
    with pytest.raises(services.InvalidData):
        services.close_lot(cargo_lot, alice)
