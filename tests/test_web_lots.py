"""Lots: totals, opening, closing (refused while tasks are active), detail, manifest CSV."""

import csv
import io
import re

import pytest

from server.cargo import services
from server.cargo.models import Lot
from sync.models import Status
from tests.web_helpers import send, set_status, web


def test_it_lists_open_lots_with_count_weight_and_price(alice, colis_data, cargo_lot, tariffs):
    for poids in ("12.5", "2.5"):
        services.create_colis(alice, {**colis_data, "poids": poids})
    send(alice, colis_data, n=2)  # two active tasks: must not multiply the sums
    rows = web(alice).get("/lots/").context["open_lots"]
    row = next(lot for lot in rows if lot.pk == cargo_lot.pk)
    assert (row.n_colis, row.total_poids, row.n_active) == (2, 15, 2)
    assert row.total_prix == 106250 + 34000  # 2.5 kg: the volumetric 4 kg is charged


def test_it_opens_a_lot_of_the_chosen_type(alice):
    response = web(alice).post("/lots/ouvrir/", {"type_lot": "bateau"})
    lot = Lot.objects.get()
    assert lot.type_lot == "bateau" and lot.numero_lot.startswith("BATEAU-")
    assert response["Location"] == f"/lots/{lot.pk}/"


def test_it_refuses_an_unknown_lot_type(alice):
    web(alice).post("/lots/ouvrir/", {"type_lot": "fusée"})
    assert not Lot.objects.exists()


def test_it_refuses_to_close_a_lot_with_pending_tasks_and_says_how_many(alice, colis_data,
                                                                         cargo_lot):
    tasks = send(alice, colis_data, n=4)
    set_status(tasks[:1], Status.COMPLETED)
    set_status(tasks[1:2], Status.FAILED_RETRY)  # will run again: still active
    response = web(alice).post(f"/lots/{cargo_lot.pk}/fermer/")
    assert response.status_code == 409
    assert "3 tâches de ce lot sont encore en cours ou en attente" in response.content.decode()
    cargo_lot.refresh_from_db()
    assert cargo_lot.is_open


def test_it_asks_for_confirmation_then_closes(alice, colis_data, cargo_lot):
    tasks = send(alice, colis_data)
    set_status(tasks, Status.FAILED_FINAL)
    client = web(alice)
    assert "Oui, fermer le lot" in client.get(f"/lots/{cargo_lot.pk}/fermer/").content.decode()
    cargo_lot.refresh_from_db()
    assert cargo_lot.is_open
    assert client.post(f"/lots/{cargo_lot.pk}/fermer/").status_code == 302
    cargo_lot.refresh_from_db()
    assert cargo_lot.statut == Lot.Statut.FERME


def test_it_shows_the_colis_and_each_tasks_history(alice, bob, colis_data, cargo_lot):
    colis = services.create_colis(alice, colis_data)
    mine = send(alice, colis_data)[0]
    theirs = send(bob, colis_data)[0]
    html = web(alice).get(f"/lots/{cargo_lot.pk}/").content.decode()
    assert colis.numero_suivi in html and f'id="colis-{colis.pk}"' in html
    assert str(mine.task_id) in html and "Reçu de l&#x27;appareil" in html
    assert str(theirs.task_id) not in html


@pytest.mark.django_db(transaction=True)
def test_it_writes_the_manifest_one_line_per_colis(alice, colis_data, cargo_lot, tariffs,
                                                   inline_jobs):
    tasks = send(alice, colis_data) + send(alice, {**colis_data, "poids": "2",
                                                   "mode_paiement": "paye_chine"})
    response = web(alice).get(f"/lots/{cargo_lot.pk}/manifest.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert cargo_lot.numero_lot in response["Content-Disposition"]
    assert response.content.startswith("\ufeff".encode())  # the BOM French Excel needs
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Numéro de suivi", "Client", "Téléphone du client", "Ville de destination",
                       "Pays de destination", "Contenu", "Poids (kg)", "Longueur (cm)",
                       "Largeur (cm)", "Hauteur (cm)", "Volume (m³)", "Mode de paiement", "Prix",
                       "Devise"]
    first, second = (t.colis for t in tasks)
    common = ["Diallo Aminata", "'+221770000001", "Dakar", "Sénégal", "Pièces détachées"]
    assert rows[1:] == [
        [first.numero_suivi, *common, "12,500", "40,0", "30,0", "20,0", "0,024", "Non payé",
         "106250,00", "XOF"],
        [second.numero_suivi, *common, "2,000", "40,0", "30,0", "20,0", "0,024", "Payé en Chine",
         "34000,00", "XOF"],
        ["Total", "2 colis", "", "", "", "", "14,500", "", "", "", "0,048", "", "140250,00", "XOF"],
    ]


def test_it_writes_the_manifest_as_xlsx_with_numbers(alice, colis_data, cargo_lot, tariffs):
    from decimal import Decimal

    from openpyxl import load_workbook

    services.create_colis(alice, colis_data)
    services.create_colis(alice, {**colis_data, "poids": "2"})
    response = web(alice).get(f"/lots/{cargo_lot.pk}/manifest.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][6:10] == ("Poids (kg)", "Longueur (cm)", "Largeur (cm)", "Hauteur (cm)")
    assert [Decimal(str(r[6])) for r in rows[1:3]] == [Decimal("12.5"), Decimal("2")]
    assert isinstance(rows[1][7], int | float) and isinstance(rows[1][12], int | float)
    assert rows[-1][0] == "Total" and Decimal(str(rows[-1][6])) == Decimal("14.5")
    assert rows[-1][12] == 106250 + 34000


def test_it_shows_the_currency_wherever_a_price_appears(alice, colis_data, cargo_lot, tariffs):
    services.create_colis(alice, colis_data)
    for url in ("/lots/", f"/lots/{cargo_lot.pk}/"):
        page = web(alice).get(url).content.decode()
        assert re.search(r"106\D?250 XOF", page), url
