from django.core.management import call_command

from server.accounts.models import User
from server.cargo.models import Client, Lot, Tariff


def test_it_loads_demo_data_once(db, capsys):
    call_command("demo", "--if-empty")
    call_command("demo", "--if-empty")
    assert Client.objects.count() == 30
    assert Tariff.objects.count() == 3
    assert Lot.objects.filter(statut="ouvert").count() == 4
    assert set(User.objects.values_list("role", flat=True)) == {"agent_chine", "supervisor",
                                                                 "admin"}
    out = capsys.readouterr().out
    assert "agent_guangzhou" in out and "colis2026" in out
    assert "not loaded" in out
