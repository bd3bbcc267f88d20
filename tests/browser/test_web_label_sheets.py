"""A lot's label sheet prints in Chromium one 100 × 150 mm page per label of the sheet:
the links to the other sheets stay on screen, and no blank page follows the last label."""

import os
import re

import pytest
from django.test import Client as WebClient

from server.cargo import services
from server.cargo.models import Client
from server.web import lots as lot_views

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_it_prints_each_sheet_as_its_own_labels(server, alice, page, monkeypatch):
    monkeypatch.setattr(lot_views, "LABELS_PER_PAGE", 2)
    lot = services.open_lot(alice, "cargo")
    data = {"client": Client.objects.first().pk, "lot": lot.pk, "poids": "3", "longueur": "40",
            "largeur": "30", "hauteur": "20", "mode_paiement": "non_paye"}
    made = [services.create_colis(alice, data) for _ in range(3)]
    web = WebClient()
    web.force_login(alice)
    page.context.add_cookies([{"name": "sessionid", "value": web.cookies["sessionid"].value,
                               "url": server.url}])
    page.goto(f"{server.url}/lots/{lot.pk}/etiquettes/")
    assert page.locator("section.label").count() == 2
    assert page.get_by_role("link", name="Suivant ›").is_visible()
    first = page.pdf(prefer_css_page_size=True)
    page.get_by_role("link", name="Suivant ›").click()
    page.wait_for_url("**/etiquettes/?p=2")
    assert page.locator(".numero").inner_text() == made[2].numero_suivi
    second = page.pdf(prefer_css_page_size=True)
    assert (_pages(first), _pages(second)) == (2, 1)
