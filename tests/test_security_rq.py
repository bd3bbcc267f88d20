"""The RQ pages (empty a queue, read tracebacks): staff admins only, never supervisors."""

import django_rq
import pytest
import rq
from django.core.management import call_command

from server.accounts.models import User
from tests.web_helpers import web

PAGES = ["/django-rq/", "/django-rq/queues/0/", "/django-rq/queues/0/failed/",
         "/django-rq/stats.json"]


@pytest.fixture
def root(db) -> User:
    return User.objects.create_user("root", password="x", role=User.Role.ADMIN, is_staff=True)


@pytest.mark.parametrize("path", PAGES)
def test_it_opens_the_rq_pages_to_a_staff_admin(root, path):
    assert web(root).get(path).status_code == 200


@pytest.mark.parametrize("path", PAGES)
def test_it_closes_the_rq_pages_to_a_staff_supervisor(charlie, path):
    charlie.is_staff = True
    charlie.save()
    assert web(charlie).get(path).status_code == 403


def test_it_closes_the_rq_pages_to_agents_and_strangers(alice):
    assert web(alice).get("/django-rq/").status_code == 403
    anonymous = web().get("/django-rq/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/")


def test_it_keeps_a_supervisor_from_emptying_a_queue(charlie, root, redis_clean):
    charlie.is_staff = True
    charlie.save()
    # A plain rq Queue: django-rq's would wait for a commit that this test never makes.
    queue = rq.Queue("notifications", connection=django_rq.get_connection("notifications"))
    queue.enqueue("server.notifications.jobs.notify", 0, "created")
    assert queue.count == 1
    response = web(charlie).post("/django-rq/queues/1/empty/")
    assert response.status_code == 403
    assert queue.count == 1
    web(root).post("/django-rq/queues/1/empty/")
    assert queue.count == 0


def test_it_links_only_admins_to_the_rq_pages(root, charlie):
    charlie.is_staff = True
    charlie.save()
    assert "/django-rq/" in web(root).get("/supervision/").content.decode()
    assert "/django-rq/" not in web(charlie).get("/supervision/").content.decode()


def test_it_makes_only_the_demo_admin_staff(db):
    call_command("demo", "--if-empty")
    staff = dict(User.objects.values_list("username", "is_staff"))
    assert staff["admin"] is True
    assert staff["superviseur"] is False
    assert not any(v for k, v in staff.items() if k != "admin")
