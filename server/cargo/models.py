from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TypeLot(models.TextChoices):
    CARGO = "cargo", _("Cargo (aérien)")
    EXPRESS = "express", _("Express (aérien)")
    BATEAU = "bateau", _("Bateau (maritime)")


class Client(models.Model):
    nom = models.CharField(max_length=100)
    prenom = models.CharField(_("prénom"), max_length=100, blank=True)
    telephone = models.CharField(_("téléphone"), max_length=30, db_index=True)
    email = models.EmailField(blank=True)
    ville_destination = models.CharField(_("ville de destination"), max_length=80)
    pays_destination = models.CharField(_("pays de destination"), max_length=80)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["nom", "prenom"]

    def __str__(self) -> str:
        return f"{self.nom} {self.prenom}".strip()


class Tariff(models.Model):
    class Unit(models.TextChoices):
        KG = "kg", _("kilogramme (poids taxable)")
        M3 = "m3", _("mètre cube")

    class Rounding(models.TextChoices):
        NEAREST = "nearest", _("au plus proche")
        UP = "up", _("à l'unité supérieure")

    mode = models.CharField(max_length=10, choices=TypeLot.choices)
    unit = models.CharField(_("unité"), max_length=3, choices=Unit.choices)
    rate = models.DecimalField(_("tarif par unité"), max_digits=12, decimal_places=2)
    divisor = models.PositiveIntegerField(
        _("diviseur volumétrique"), default=6000, help_text=_("cm³ par kg (poids volumétrique)")
    )
    minimum = models.DecimalField(_("minimum de perception"), max_digits=12, decimal_places=2,
                                  default=Decimal("0"))
    currency = models.CharField(_("devise"), max_length=3, default="XOF")
    round_to = models.DecimalField(_("arrondi à"), max_digits=8, decimal_places=2, default=Decimal("1"))
    rounding = models.CharField(max_length=8, choices=Rounding.choices, default=Rounding.NEAREST)
    valid_from = models.DateField(_("valable à partir du"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["mode", "-valid_from"]
        verbose_name = _("tarif")

    def __str__(self) -> str:
        return f"{self.mode} {self.rate} {self.currency}/{self.unit} ({self.valid_from})"

    @classmethod
    def current(cls, mode: str, on=None) -> "Tariff | None":
        """The tariff in force for `mode` on date `on` (today in the warehouses' clock)."""
        on = on or timezone.localdate()
        return cls.objects.filter(mode=mode, valid_from__lte=on).order_by("-valid_from", "-id").first()


class Lot(models.Model):
    class Statut(models.TextChoices):
        OUVERT = "ouvert", _("Ouvert")
        FERME = "ferme", _("Fermé")
        EXPEDIE = "expedie", _("Expédié")

    numero_lot = models.CharField(_("numéro de lot"), max_length=40, unique=True)
    type_lot = models.CharField(_("type de lot"), max_length=10, choices=TypeLot.choices)
    statut = models.CharField(max_length=10, choices=Statut.choices, default=Statut.OUVERT,
                              db_index=True)
    agent_createur = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                       related_name="lots")
    # The device's idempotency key when the lot was opened offline (open_lot item).
    op_id = models.UUIDField(null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.numero_lot

    @property
    def is_open(self) -> bool:
        return self.statut == self.Statut.OUVERT


class Colis(models.Model):
    class ModePaiement(models.TextChoices):
        NON_PAYE = "non_paye", _("Non payé")
        PAYE_CHINE = "paye_chine", _("Payé en Chine")
        PAYE_DESTINATION = "paye_destination", _("Payé à destination")

    class Statut(models.TextChoices):
        RECEPTIONNE_CHINE = "receptionne_chine", _("Réceptionné en Chine")
        EN_TRANSIT = "en_transit", _("En transit")
        ARRIVE = "arrive", _("Arrivé à destination")
        LIVRE = "livre", _("Livré")

    class Photo(models.TextChoices):
        NONE = "none", _("Sans photo")
        AWAITING = "awaiting", _("Photo attendue")
        PROCESSING = "processing", _("Photo en traitement")
        READY = "ready", _("Photo prête")
        FAILED = "failed", _("Photo en échec")

    numero_suivi = models.CharField(_("numéro de suivi"), max_length=24, unique=True)
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="colis")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="colis")
    type_transport = models.CharField(max_length=10, choices=TypeLot.choices)
    poids = models.DecimalField(_("poids (kg)"), max_digits=8, decimal_places=3)
    longueur = models.DecimalField(_("longueur (cm)"), max_digits=7, decimal_places=1)
    largeur = models.DecimalField(_("largeur (cm)"), max_digits=7, decimal_places=1)
    hauteur = models.DecimalField(_("hauteur (cm)"), max_digits=7, decimal_places=1)
    mode_paiement = models.CharField(max_length=20, choices=ModePaiement.choices,
                                     default=ModePaiement.NON_PAYE)
    statut = models.CharField(max_length=20, choices=Statut.choices,
                              default=Statut.RECEPTIONNE_CHINE)
    description = models.TextField(blank=True)
    image = models.ImageField(upload_to="colis/", blank=True)
    thumbnail = models.ImageField(upload_to="colis/thumbs/", blank=True)
    photo_status = models.CharField(max_length=12, choices=Photo.choices, default=Photo.NONE)
    photo_id = models.UUIDField(null=True, blank=True, db_index=True)
    photo_error = models.CharField(max_length=200, blank=True)  # a code: see sync/photos.py
    photo_attempts = models.PositiveSmallIntegerField(default=0)  # claims, bounded by the sweeper
    # A photo an update sent to add or replace the one above, which stays shown until this one
    # is ready and takes its place (sync/photos.py). Its status is never "ready": once ready it
    # is the colis' photo and these fields are cleared; "failed" leaves the photo above as it was.
    photo_next_id = models.UUIDField(null=True, blank=True, db_index=True)
    photo_next_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                      null=True, blank=True, related_name="+")  # its uploader
    photo_next_status = models.CharField(max_length=12, choices=Photo.choices, default=Photo.NONE,
                                         db_default=Photo.NONE)
    photo_next_error = models.CharField(max_length=200, blank=True, default="", db_default="")
    photo_next_attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    prix_calcule = models.DecimalField(_("prix calculé"), max_digits=12, decimal_places=2,
                                       null=True, blank=True)
    devise = models.CharField(max_length=3, default="XOF")
    tariff = models.ForeignKey(Tariff, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="colis")
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="colis")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "colis"
        verbose_name_plural = "colis"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.numero_suivi


class Sequence(models.Model):
    """A named counter, advanced under a row lock (lot and tracking numbers)."""

    key = models.CharField(max_length=60, unique=True)
    value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class NumeroLease(models.Model):
    """A range of tracking numbers (`first`..`last` of the year `year`'s sequence) leased to
    one device, which numbers its colis from it offline (server/cargo/leases.py).

    The range comes from the same counter as the server's own numbers, so neither ever
    reuses the other's. A voided lease (its device revoked) accepts no more of its numbers.
    """

    device = models.ForeignKey("accounts.Device", on_delete=models.PROTECT,
                               related_name="numero_leases", verbose_name=_("appareil"))
    year = models.CharField(_("année"), max_length=2)
    first = models.PositiveBigIntegerField(_("premier"))
    last = models.PositiveBigIntegerField(_("dernier"))
    # The first and last numbers as written, whose text order is the sequence's (fixed width):
    # a colis numbered from this lease has first_numero <= numero_suivi <= last_numero.
    first_numero = models.CharField(_("premier numéro"), max_length=24)
    last_numero = models.CharField(_("dernier numéro"), max_length=24)
    created_at = models.DateTimeField(default=timezone.now)
    voided_at = models.DateTimeField(_("annulé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("bail de numéros")
        verbose_name_plural = _("baux de numéros")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["year", "first"])]

    def __str__(self) -> str:
        return f"{self.first_numero} … {self.last_numero}"

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    @property
    def is_active(self) -> bool:
        return self.voided_at is None
