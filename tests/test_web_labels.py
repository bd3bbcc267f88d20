"""Printable labels: the numéro de suivi as text and as a QR code in inline SVG."""

from server.cargo import services
from server.web.labels import qr_svg
from tests.web_helpers import web


def test_it_draws_a_qr_code_as_inline_svg():
    svg = str(qr_svg("CS26-000042-7"))
    assert svg.startswith('<svg viewBox="0 0 ') and 'class="qr"' in svg
    assert "<title>CS26-000042-7</title>" in svg and 'width="' not in svg.split(">")[0]


def test_it_prints_one_label_with_number_and_qr(alice, colis_data):
    colis = services.create_colis(alice, colis_data)
    html = web(alice).get(f"/colis/{colis.pk}/etiquette/").content.decode()
    assert html.count('<section class="label">') == 1
    assert f'<div class="numero">{colis.numero_suivi}</div>' in html
    assert "<svg viewBox=" in html and f"<title>{colis.numero_suivi}</title>" in html
    assert "web/labels.css" in html


def test_it_prints_every_label_of_a_lot(alice, colis_data, cargo_lot):
    numbers = [services.create_colis(alice, colis_data).numero_suivi for _ in range(3)]
    html = web(alice).get(f"/lots/{cargo_lot.pk}/etiquettes/").content.decode()
    assert html.count("<svg ") == 3 and all(n in html for n in numbers)


def test_it_sizes_the_page_for_a_100_by_150_label():
    from pathlib import Path

    css = (Path(__file__).parent.parent / "server/web/static/web/labels.css").read_text()
    assert "@page { size: 100mm 150mm; margin: 0; }" in css
