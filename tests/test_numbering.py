import re
import threading

import pytest
from django.db import connection

from server.cargo import numbering, services
from server.cargo.models import Lot


def test_it_numbers_lots_by_type_and_day(alice):
    first = services.open_lot(alice, "cargo")
    second = services.open_lot(alice, "cargo")
    express = services.open_lot(alice, "express")
    assert re.fullmatch(r"CARGO-\d{8}-001", first.numero_lot)
    assert second.numero_lot.endswith("-002")
    assert re.fullmatch(r"EXPRESS-\d{8}-001", express.numero_lot)


def test_it_gives_tracking_numbers_a_check_digit(db):
    numero = numbering.next_numero_suivi()
    assert re.fullmatch(r"CS\d{2}-\d{6}-\d", numero)
    assert numbering.is_valid_numero_suivi(numero)


@pytest.mark.parametrize("typo", ["digit", "swap"])
def test_it_detects_a_mistyped_tracking_number(db, typo):
    numero = "CS26-004217-" + numbering.luhn_digit("26004217")
    if typo == "digit":
        wrong = numero.replace("4217", "4218")
    else:
        wrong = numero.replace("4217", "4127")
    assert numbering.is_valid_numero_suivi(numero)
    assert not numbering.is_valid_numero_suivi(wrong)


def test_it_rejects_malformed_tracking_numbers():
    for text in ["", "CS26", "XX26-000001-1", "CS26-00000A-1", "CS26-000001-12"]:
        assert not numbering.is_valid_numero_suivi(text)


def test_it_reopens_the_same_lot_for_the_same_op_id(alice):
    op_id = "7d0b4c57-0d53-4a8c-9f7c-5d1f3c2b1a00"
    assert services.open_lot(alice, "bateau", op_id=op_id) == services.open_lot(
        alice, "bateau", op_id=op_id)
    assert Lot.objects.count() == 1


def _in_threads(count: int, work) -> tuple[list, list]:
    results, errors = [], []
    barrier = threading.Barrier(count)

    def run():
        try:
            barrier.wait()
            results.append(work())
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_it_keeps_lot_numbers_unique_under_20_concurrent_openings(django_user_model):
    agent = django_user_model.objects.create_user("zhang", password="x", role="agent_chine")
    results, errors = _in_threads(20, lambda: services.open_lot(agent, "cargo").numero_lot)
    assert errors == []
    assert len(results) == 20 and len(set(results)) == 20


@pytest.mark.django_db(transaction=True)
def test_it_keeps_tracking_numbers_unique_under_20_concurrent_takers():
    results, errors = _in_threads(20, numbering.next_numero_suivi)
    assert errors == []
    assert len(set(results)) == 20
