from server.accounts.models import User


def test_it_lets_agents_register_and_not_supervise(alice):
    assert alice.can_register_colis and not alice.is_supervisor


def test_it_lets_supervisors_supervise_and_not_register(charlie):
    assert charlie.is_supervisor and not charlie.can_register_colis


def test_it_lets_admins_do_both(db):
    admin = User.objects.create_user("dede", password="x", role=User.Role.ADMIN)
    assert admin.is_supervisor and admin.can_register_colis
