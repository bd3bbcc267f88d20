"""Load demo data: agents, a supervisor, an admin, tariffs, 30 clients, open lots."""

import random
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from server.cargo import services
from server.cargo.models import Client, Lot, Tariff

PASSWORD = "colis2026"
USERS = [  # username, role, warehouse, first name
    ("agent_guangzhou", "agent_chine", "Guangzhou", "Li"),
    ("agent_yiwu", "agent_chine", "Yiwu", "Wang"),
    ("agent_guangzhou2", "agent_chine", "Guangzhou", "Chen"),
    ("superviseur", "supervisor", "", "Awa"),
    ("admin", "admin", "", "Admin"),
]
TARIFFS = [  # mode, unit, rate, divisor, minimum, round_to
    ("cargo", "kg", "8500", 6000, "5000", "50"),
    ("express", "kg", "12500", 5000, "10000", "50"),
    ("bateau", "m3", "350000", 1000000, "25000", "500"),
]
NOMS = ["Diallo", "Traoré", "Koné", "Ouédraogo", "Camara", "Sow", "Ndiaye", "Kouassi", "Bamba",
        "Cissé", "Keïta", "Mensah", "Diop", "Sylla", "Coulibaly"]
PRENOMS = ["Aminata", "Moussa", "Fatou", "Ibrahima", "Mariam", "Seydou", "Awa", "Kofi", "Adama",
           "Ousmane"]
VILLES = [("Dakar", "Sénégal"), ("Abidjan", "Côte d'Ivoire"), ("Bamako", "Mali"),
          ("Ouagadougou", "Burkina Faso"), ("Conakry", "Guinée"), ("Lomé", "Togo")]


class Command(BaseCommand):
    help = "Load demo data (skipped with --if-empty when users exist) and print the logins."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true",
                            help="do nothing when the database already has users")

    def handle(self, *args, if_empty=False, **options):
        User = get_user_model()
        if if_empty and User.objects.exists():
            self.stdout.write("Database not empty: demo data not loaded.")
        else:
            self.load(User)
        self.print_logins()

    @transaction.atomic
    def load(self, User):
        rng = random.Random(2026)
        users = {}
        for username, role, warehouse, first in USERS:
            user, _ = User.objects.get_or_create(username=username, defaults={
                "role": role, "warehouse": warehouse, "first_name": first})
            # Supervisors act through /supervision/; only the admin reaches /admin/ and RQ.
            user.is_staff = user.is_superuser = role == "admin"
            user.set_password(PASSWORD)
            user.save()
            users[username] = user
        for mode, unit, rate, divisor, minimum, round_to in TARIFFS:
            Tariff.objects.get_or_create(mode=mode, valid_from=date(2026, 1, 1), defaults={
                "unit": unit, "rate": Decimal(rate), "divisor": divisor,
                "minimum": Decimal(minimum), "round_to": Decimal(round_to)})
        for _ in range(30 - Client.objects.count()):
            ville, pays = rng.choice(VILLES)
            Client.objects.create(nom=rng.choice(NOMS), prenom=rng.choice(PRENOMS),
                                  telephone=f"+2217{rng.randrange(10**7, 10**8)}",
                                  ville_destination=ville, pays_destination=pays)
        if not Lot.objects.filter(statut=Lot.Statut.OUVERT).exists():
            for type_lot in ("cargo", "express", "bateau"):
                services.open_lot(users["agent_guangzhou"], type_lot)
            services.open_lot(users["agent_yiwu"], "cargo")
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))

    def print_logins(self):
        self.stdout.write(f"Demo logins (password: {PASSWORD}):")
        for username, role, warehouse, _first in USERS:
            where = f" — {warehouse}" if warehouse else ""
            self.stdout.write(f"  {username:<18} {role}{where}")
