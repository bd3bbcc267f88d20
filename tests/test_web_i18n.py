"""The dashboards speak French first, with English and simplified Chinese translations."""

import pytest

from tests.web_helpers import web


@pytest.mark.parametrize("language, title, count", [
    ("fr", "Mes tâches", "en attente"),
    ("en", "My tasks", "pending"),
    ("zh-hans", "我的任务", "等待中"),
])
def test_it_shows_the_board_in_the_asked_language(alice, language, title, count):
    html = web(alice).get("/taches/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f"<h1>{title}</h1>" in html and count in html


def test_it_translates_the_supervisors_page(charlie):
    html = web(charlie).get("/supervision/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Agents and devices" in html and "Queue health" in html
