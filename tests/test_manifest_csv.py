"""A lot's CSV manifest: in the viewer's language's dialect, and no cell that Excel or
LibreOffice would run as a formula."""

import csv
import io

import pytest

from server.cargo import services
from server.cargo.models import Client
from server.web.sheets import safe_text as csv_cell

from .web_helpers import web

HOSTILE = ["=HYPERLINK(\"http://evil.example\";\"clic\")", "+33 6 12", "-2+3+cmd|' /C calc'!A0",
           "@SUM(1+9)*cmd|' /C calc'!A0", "\tTAB", "\rCR"]


@pytest.mark.parametrize("text", HOSTILE)
def test_it_escapes_a_cell_that_starts_like_a_formula(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Diallo Aminata", "12.500", "CS26-000001-3", "a=b", 5])
def test_it_leaves_other_cells_as_they_are(value):
    assert csv_cell(value) == str(value)


def test_it_writes_no_formula_into_the_manifest(alice, colis_data, tariffs):
    formulas = HOSTILE[:4]  # a client's name loses its leading tab or CR (Client.__str__)
    for text in formulas:
        client = Client.objects.create(nom=text, prenom="", telephone="+221770000009",
                                       ville_destination="Dakar", pays_destination="Sénégal")
        services.create_colis(alice, {**colis_data, "client": client.pk})
    response = web(alice).get(f"/lots/{colis_data['lot']}/manifest.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    clients = sorted(row[1] for row in rows[1:-1])  # the last row: the totals
    assert clients == sorted("'" + text for text in formulas)
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row), row


def test_it_writes_no_formula_into_the_xlsx_manifest(alice, colis_data, tariffs):
    from openpyxl import load_workbook

    client = Client.objects.create(nom="=HYPERLINK(\"http://evil.example\")", prenom="",
                                   telephone="+221770000009", ville_destination="@Dakar",
                                   pays_destination="Sénégal")
    services.create_colis(alice, {**colis_data, "client": client.pk, "description": "=1+1"})
    response = web(alice).get(f"/lots/{colis_data['lot']}/manifest.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    texts = [c.value for row in sheet.iter_rows(min_row=2) for c in row]
    assert "=1+1" in texts and "@Dakar" in texts  # kept as typed, as text


@pytest.mark.parametrize("language, delimiter, weight, volume", [
    ("fr", ";", "12,500", "0,024"),
    ("en", ",", "12.500", "0.024"),
    ("zh-hans", ",", "12.500", "0.024"),
])
def test_it_writes_the_csv_in_the_viewers_language(alice, colis_data, tariffs, language,
                                                   delimiter, weight, volume):
    services.create_colis(alice, {**colis_data, "client": Client.objects.create(
        nom="=1+1", prenom="", telephone="+221770000009", ville_destination="Dakar",
        pays_destination="Sénégal").pk})
    response = web(alice).get(f"/lots/{colis_data['lot']}/manifest.csv",
                              HTTP_ACCEPT_LANGUAGE=language)
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:]), delimiter=delimiter))
    assert all(len(row) == 14 for row in rows)  # the separator is the one the test reads with
    colis, total = rows[1], rows[2]
    assert colis[1] == "'=1+1"
    assert colis[6] == weight and colis[10] == volume
    assert total[6] == weight and total[10] == volume


def test_it_drops_control_characters_from_the_xlsx_manifest(alice, colis_data, tariffs):
    from openpyxl import load_workbook

    client = Client.objects.create(nom="Diallo\x01\x1b", prenom="A\x0bminata",
                                   telephone="+221770000009", ville_destination="Da\x08kar",
                                   pays_destination="Sénégal")
    services.create_colis(alice, {**colis_data, "client": client.pk,
                                  "description": "ligne\x7f\x1fune\tdeux\nfin"})
    response = web(alice).get(f"/lots/{colis_data['lot']}/manifest.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    texts = [c.value for row in sheet.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert "Dakar" in texts and "ligne\x7fune\tdeux\nfin" in texts
    assert not any(ch in text for text in texts for ch in "\x01\x1b\x0b\x08\x1f")
