"""Error pages in the viewer's language: a 403 for a wrong role (no traceback logged), a
404, a 500; and the favicon every browser asks for."""

import logging

import pytest
from django.urls import include, path

from tests.web_helpers import web


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), path("", include("server.urls"))]
TEXTS = {"fr": ("Accès refusé", "Page introuvable", "Erreur du serveur"),
         "en": ("Access denied", "Page not found", "Server error"),
         "zh-hans": ("无权访问", "页面不存在", "服务器错误")}


@pytest.mark.parametrize("lang", list(TEXTS))
def test_it_refuses_an_agent_the_supervisors_page_in_their_language(alice, lang, caplog):
    client = web(alice)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/supervision/", HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 403
    assert TEXTS[lang][0] in response.content.decode()
    assert "403 Forbidden" not in response.content.decode()
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize("lang", list(TEXTS))
def test_it_answers_a_translated_404(alice, lang):
    response = web(alice).get("/nulle-part/", HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 404
    assert TEXTS[lang][1] in response.content.decode()


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("lang", list(TEXTS))
def test_it_answers_a_translated_500(alice, lang):
    client = web(alice)
    client.raise_request_exception = False
    response = client.get("/boom/", HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 500
    assert TEXTS[lang][2] in response.content.decode()


def test_it_points_favicon_ico_at_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith(".ico")
