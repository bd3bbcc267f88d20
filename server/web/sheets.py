"""Spreadsheets people open in Excel or LibreOffice: the lot's manifest and « Résultats ».

XLSX keeps numbers as numbers and text as typed, always a string, never a formula. The CSV
follows the viewer's language, as their Excel reads it as it is: in French `;` between cells
and decimal commas, in English and Chinese `,` and decimal points; a UTF-8 BOM in all. Text
that starts like a formula gets a leading apostrophe (OWASP's CSV injection)."""

import csv
import io
from datetime import date
from decimal import Decimal

from django.http import HttpResponse
from django.utils import formats, translation
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_text(value) -> str:
    """Text Excel will not run as a formula (a client named `=HYPERLINK(…)`)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_dialect(language: str | None = None) -> tuple[str, str]:
    """(cell separator, decimal mark) of the CSV in `language` (default: the request's)."""
    language = language or translation.get_language() or "fr"
    return (";", ",") if language.split("-")[0] == "fr" else (",", ".")


def csv_cell(value, decimal: str = ",") -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return formats.number_format(value, use_l10n=False).replace(".", decimal)
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".").replace(".", decimal)
    if isinstance(value, int | date):
        return str(value)
    return safe_text(value)


def csv_response(filename: str, header: list[str], rows: list[list]) -> HttpResponse:
    """A CSV in the viewer's language's dialect (csv_dialect), with a BOM for UTF-8."""
    delimiter, decimal = csv_dialect()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response.write("\ufeff")  # a BOM: Excel then reads UTF-8
    writer = csv.writer(response, delimiter=delimiter)
    writer.writerow([safe_text(c) for c in header])
    writer.writerows([csv_cell(v, decimal) for v in row] for row in rows)
    return _attachment(response, filename)


def xlsx_response(filename: str, title: str, header: list[str], rows: list[list], *,
                  widths: tuple[int, ...] = (), bold_last: bool = False) -> HttpResponse:
    """One sheet: a bold header frozen at the top, then `rows` (the last one bold: totals)."""
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append([xlsx_cell(c) for c in header])
    for row in rows:
        sheet.append([xlsx_cell(c) for c in row])
    for line in sheet.iter_rows():
        for cell in line:
            if cell.data_type == "f":  # text that starts with "=": a string, never a formula
                cell.data_type = "s"
            elif isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    for cell in [*sheet[1], *(sheet[sheet.max_row] if bold_last and rows else ())]:
        cell.font = Font(bold=True)
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return _attachment(HttpResponse(out.getvalue(), content_type=XLSX), filename)


def xlsx_cell(value):
    """`value`, less the control characters XML 1.0 cannot hold (openpyxl raises on them):
    a colis described with a stray \\x1b is still exported, tab and newline kept."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
