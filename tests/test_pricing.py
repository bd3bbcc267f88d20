import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.cargo.pricing import quote

VECTORS = json.loads((Path(__file__).parent / "pricing_vectors.json").read_text())["cases"]


@pytest.mark.parametrize("case", VECTORS, ids=[c["name"] for c in VECTORS])
def test_it_prices_each_vector(case):
    result = quote(**case["tariff"], **case["colis"])
    assert str(result.quantity) == case["quantity"]
    assert str(result.amount) == case["amount"]
    assert result.currency == case["tariff"]["currency"]


TARIFF = dict(unit="kg", rate="8500", divisor=6000, minimum="5000", round_to="50",
              rounding="nearest", currency="XOF")
sizes = st.decimals(min_value=Decimal("0.1"), max_value=Decimal("300"), places=1)


@given(poids=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2),
       longueur=sizes, largeur=sizes, hauteur=sizes)
def test_it_never_charges_below_the_minimum_nor_off_the_step(poids, longueur, largeur, hauteur):
    result = quote(**TARIFF, poids=poids, longueur=longueur, largeur=largeur, hauteur=hauteur)
    assert result.amount >= Decimal("5000")
    assert result.amount % 50 == 0


def test_it_charges_more_for_a_heavier_colis():
    light = quote(**TARIFF, poids="10", longueur="10", largeur="10", hauteur="10")
    heavy = quote(**TARIFF, poids="11", longueur="10", largeur="10", hauteur="10")
    assert heavy.amount > light.amount


def test_it_refuses_an_unknown_unit():
    with pytest.raises(ValueError):
        quote(**{**TARIFF, "unit": "lb"}, poids="1", longueur="1", largeur="1", hauteur="1")
