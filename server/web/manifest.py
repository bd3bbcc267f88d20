"""A lot's manifest, as the warehouse and the destination office open it: XLSX with numbers
as numbers and one column per dimension, and a CSV that the viewer's Excel reads as it is
(sheets.py: `;` and decimal commas in French, `,` and points in English and Chinese)."""

from decimal import Decimal

from django.http import HttpResponse
from django.utils.translation import gettext as _

from server.cargo.models import Colis, Lot

from . import queries, sheets


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
    return sheets.xlsx_response(f"{lot.numero_lot}-manifest.xlsx", lot.numero_lot, header(),
                                [*rows, totals(rows)], bold_last=True,
                                widths=(16, 24, 16, 16, 14, 30, 10, 12, 12, 12, 11, 16, 12, 8))


def csv_file(lot: Lot) -> HttpResponse:
    """In the viewer's language's dialect (sheets.csv_dialect); a BOM for UTF-8."""
    rows = rows_of(lot)
    return sheets.csv_response(f"{lot.numero_lot}-manifest.csv", header(), [*rows, totals(rows)])
