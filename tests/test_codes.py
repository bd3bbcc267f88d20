"""Errors, refusals and steps travel as codes and are rendered in the viewer's language:
the API by Accept-Language, the pages by theirs, the PWA from its own catalogue."""

import re
from pathlib import Path

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from server import codes
from sync.models import ColisTask
from tests.conftest import codes as codes_in
from tests.conftest import item

ROOT = Path(__file__).resolve().parent.parent
LANGS = ["fr", "en", "zh-hans"]


def js_table(function: str) -> set[str]:
    """The codes a function of pwa/js/codes.js has a sentence for."""
    text = (ROOT / "pwa" / "js" / "codes.js").read_text()
    body = text[text.index(f"export function {function}("):]
    body = body[:body.index("}[")]
    return set(re.findall(r"^\s+(\w+): gettext\(", body, re.M))


@pytest.mark.parametrize("function, catalogue", [("fieldError", codes.FIELD),
                                                 ("taskError", codes.TASK),
                                                 ("stepLabel", codes.STEP)])
def test_it_knows_every_code_in_the_pwa_too(function, catalogue):
    assert js_table(function) == set(catalogue)


@pytest.mark.parametrize("lang", LANGS)
def test_it_translates_every_code(lang):
    with translation.override(lang):
        for catalogue in (codes.FIELD, codes.TASK, codes.STEP, codes.EVENT):
            for code, source in catalogue.items():
                text = str(source)
                assert text, code
                if lang != "fr":
                    with translation.override("fr"):
                        assert text != str(source) or code in ("text_expected",), (lang, code)


def test_it_renders_parameters_in_each_language():
    entry = codes.error("max_value", limit="2000")
    rendered = {}
    for lang in LANGS:
        with translation.override(lang):
            rendered[lang] = codes.render(entry)
    assert rendered == {"fr": "Doit être au plus 2000.", "en": "Must be at most 2000.",
                        "zh-hans": "不得大于 2000。"}


def test_it_reads_the_sentences_older_rows_stored():
    assert codes.entry("Doit être strictement positif.") == {"code": "not_positive", "params": {}}
    assert codes.entry("version_conflict: current is 4") == {"code": "version_conflict",
                                                            "params": {"current": "4"}}
    assert codes.entry("Une phrase inconnue.") == {"code": "text",
                                                   "params": {"text": "Une phrase inconnue."}}
    with translation.override("en"):
        assert codes.step_label("En attente de traitement") == "Waiting to be processed"
        assert codes.event_message("Reçu de l'appareil") == "Received from the device"
        assert codes.render("Une phrase inconnue.") == "Une phrase inconnue."


@pytest.mark.parametrize("lang, expected", [("fr", "Doit être au plus 2000."),
                                            ("en", "Must be at most 2000."),
                                            ("zh-hans", "不得大于 2000。")])
def test_it_answers_item_errors_as_codes_and_in_the_requests_language(
        alice_api, colis_data, redis_clean, lang, expected):
    response = alice_api.post("/api/v1/sync/", {"items": [item(**{**colis_data, "poids": "2500"})]},
                              format="json", HTTP_ACCEPT_LANGUAGE=lang)
    answer = response.json()["items"][0]
    assert answer["errors"] == {"poids": [expected]}
    assert answer["error_codes"] == {"poids": [{"code": "max_value", "params": {"limit": "2000"}}]}
    assert codes_in(answer["error_codes"]) == {"poids": ["max_value"]}


def test_it_gives_a_tasks_step_as_a_code_and_a_label(alice_api, colis_data, redis_clean):
    response = alice_api.post("/api/v1/sync/", {"items": [item(**colis_data)]}, format="json",
                              HTTP_ACCEPT_LANGUAGE="zh-hans")
    task = response.json()["items"][0]["task"]
    assert task["current_step"] == "pending"
    assert task["current_step_label"] == "等待处理"


def test_it_answers_the_apis_own_refusals_in_the_requests_language(
        alice_api, charlie, colis_data, redis_clean, settings):
    """Whole-request refusals (a body that is no batch, too big, too deep; a lease request
    without a count) speak the caller's language too, not French to everyone."""
    settings.SYNC_MAX_BATCH = 1

    def post(url, body, **extra):
        response = alice_api.post(url, body, content_type="application/json",
                                  HTTP_ACCEPT_LANGUAGE="en", **extra)
        assert 400 <= response.status_code < 500, response.content
        return response.json()

    french = ("trop", "Trop", "invalide", "attendu", "requis", "Corps", "Choix", "é")
    [task] = alice_api.post("/api/v1/sync/", {"items": [item(**colis_data)]},
                            format="json").json()["items"]
    ColisTask.objects.filter(op_id=task["op_id"]).update(status="failed_final")
    answers = [
        post("/api/v1/sync/", "{"),
        post("/api/v1/sync/", "[" * 50 + "]" * 50),
        post("/api/v1/sync/", "[]"),
        post("/api/v1/sync/", {"items": [item(), item()]}),
        post("/api/v1/sync/", "{}", CONTENT_LENGTH=str(settings.SYNC_MAX_BODY + 1)),
        post("/api/v1/leases/", {"left": -1}),
        post(f"/api/v1/tasks/{task['task']['task_id']}/retry/", {"data": [1]}),
        post("/api/v1/devices/report/", {"outbox_pending": -1}),
        alice_api.get("/api/v1/sync/changes?since=-1", HTTP_ACCEPT_LANGUAGE="en").json(),
    ]
    client = APIClient()
    client.force_login(charlie)
    answers.append(client.get("/api/v1/lots/?statut=x", HTTP_ACCEPT_LANGUAGE="en").json())
    for answer in answers:
        text = str(answer)
        assert not any(word in text for word in french), answer
