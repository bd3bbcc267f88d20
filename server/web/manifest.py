"""A lot's manifest, as the warehouse and the destination office open it: XLSX with numbers
as numbers and one column per dimension, and a CSV that French Excel reads (`;`, decimal
commas, a UTF-8 BOM). No text ever runs as a formula: the XLSX types it as a string, the CSV
prefixes an apostrophe to text that starts like one."""

import csv
import io
from decimal import Decimal

from django.http import HttpResponse
from django.utils import formats
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from server.cargo.models import Colis, Lot

from . import queries

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_text(value) -> str:
    """Text Excel or LibreOffice will not run as a formula: text that starts like one (a
    client named `=HYPERLINK(…)`) gets a leading apostrophe (OWASP's CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def header() -> list[str]:
    return [_("Numéro de suivi"), _("Client"), _("Téléphone du client"), _("Ville de destination"),
            _("Pays de destination"), _("Contenu"), _("Poids (kg)"), _("Longueur (cm)"),
            _("Largeur (cm)"), _("Hauteur (cm)"), _("Volume (m³)"), _("Mode de paiement"),
            _("Prix"), _("Devise")]


def row(colis: Colis) -> list:
    """A colis' cells: text as text, numbers as Decimals."""
    client = colis.client
    volume = (colis.longueur * colis.largeur * colis.hauteur / Decimal(1_000_000)).quantize(
        Decimal("0.001"))
    return [colis.numero_suivi, str(client), client.telephone, client.ville_destination,
            client.pays_destination, colis.description, colis.poids, colis.longueur,
            colis.largeur, colis.hauteur, volume, colis.get_mode_paiement_display(),
            colis.prix_calcule, colis.devise]


def totals(rows: list[list]) -> list:
    """The last line: the count, and the sums of weight, volume and price."""
    def total(index: int):
        return sum((r[index] for r in rows if r[index] is not None), Decimal(0))

    currencies = {r[13] for r in rows if r[12] is not None}
    return [_("Total"), _("%(n)s colis") % {"n": len(rows)}, "", "", "", "", total(6), "", "", "",
            total(10), "", total(12), currencies.pop() if len(currencies) == 1 else ""]


def rows_of(lot: Lot) -> list[list]:
    return [row(c) for c in queries.colis_for_lot(lot).iterator(chunk_size=2000)]


def xlsx(lot: Lot) -> HttpResponse:
    rows = rows_of(lot)
    book = Workbook(write_only=False)
    sheet = book.active
    sheet.title = lot.numero_lot[:31]
    sheet.append(header())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in [*rows, totals(rows)]:
        sheet.append(values)
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            if cell.data_type == "f":  # text that starts with "=": a string, never a formula
                cell.data_type = "s"
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDEFGHIJKLMN", (16, 24, 16, 16, 14, 30, 10, 12, 12, 12, 11, 16,
                                                12, 8), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return _attachment(HttpResponse(out.getvalue(), content_type=XLSX),
                       f"{lot.numero_lot}-manifest.xlsx")


def french_csv(lot: Lot) -> HttpResponse:
    """`;` between cells and decimal commas, as French Excel expects; a BOM for UTF-8."""
    rows = rows_of(lot)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow(header())
    for values in [*rows, totals(rows)]:
        writer.writerow([_csv_value(v) for v in values])
    return _attachment(response, f"{lot.numero_lot}-manifest.csv")


def _csv_value(value) -> str:
    if isinstance(value, Decimal):
        return formats.number_format(value, use_l10n=False).replace(".", ",")
    return safe_text(value)


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
