"""Who may open each dashboard page: anonymous, agent A, agent B, supervisor."""

import pytest

from tests.web_helpers import send, web

PAGES = ["/taches/", "/taches/changes.json", "/taches/{task}/", "/lots/", "/lots/{lot}/",
         "/lots/{lot}/fermer/", "/lots/{lot}/manifest.csv", "/lots/{lot}/etiquettes/",
         "/colis/{colis}/etiquette/", "/supervision/", "/supervision/live/",
         "/supervision/recherche/?q=Diallo"]
SUPERVISION = {"/supervision/", "/supervision/live/", "/supervision/recherche/?q=Diallo"}


@pytest.fixture
def objects(alice, colis_data, cargo_lot):
    from server.cargo import services

    task = send(alice, colis_data)[0]
    colis = services.create_colis(alice, colis_data)
    return {"task": task.task_id, "lot": cargo_lot.pk, "colis": colis.pk}


@pytest.mark.parametrize("page", PAGES)
def test_it_sends_anonymous_visitors_to_the_login_page(page, objects):
    response = web().get(page.format(**objects))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("page", PAGES)
def test_it_lets_the_owning_agent_in_except_to_supervision(page, alice, objects):
    response = web(alice).get(page.format(**objects))
    assert response.status_code == (403 if page in SUPERVISION else 200)


@pytest.mark.parametrize("page", PAGES)
def test_it_keeps_another_agents_task_from_agent_b(page, bob, objects):
    response = web(bob).get(page.format(**objects))
    expected = 403 if page in SUPERVISION else 404 if "{task}" in page else 200
    assert response.status_code == expected


@pytest.mark.parametrize("page", PAGES)
def test_it_lets_supervisors_in_everywhere(page, charlie, objects):
    assert web(charlie).get(page.format(**objects)).status_code == 200


@pytest.mark.parametrize("action", ["/taches/{task}/relancer/", "/taches/{task}/annuler/"])
def test_it_refuses_agent_b_the_actions_on_agent_a_tasks(action, bob, objects):
    assert web(bob).post(action.format(**objects)).status_code == 404


@pytest.mark.parametrize("action", ["/supervision/relancer/", "/supervision/appareils/1/revoquer/"])
def test_it_refuses_agents_the_supervisors_actions(action, alice, objects):
    assert web(alice).post(action).status_code == 403


def test_it_refuses_supervisors_to_open_a_lot(charlie):
    assert web(charlie).post("/lots/ouvrir/", {"type_lot": "cargo"}).status_code == 403


def test_it_shows_the_login_page_in_french(db):
    response = web().get("/login/")
    assert response.status_code == 200
    assert "Se connecter" in response.content.decode()


def test_it_logs_in_and_lands_on_the_board(alice):
    response = web().post("/login/", {"username": "alice", "password": "password"})
    assert response.status_code == 302 and response["Location"] == "/taches/"


def test_it_links_admins_to_the_rq_pages(charlie, alice):
    charlie.is_staff, charlie.role = True, "admin"  # supervisors don't see RQ (test_security_rq)
    charlie.save()
    assert "/django-rq/" in web(charlie).get("/supervision/").content.decode()
    assert "/django-rq/" not in web(alice).get("/taches/").content.decode()
