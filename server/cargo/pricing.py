"""The price of a colis: one pure function, mirrored by pwa/js/pricing.js.

Both are checked against the same vectors (tests/pricing_vectors.json).

- unit "kg" (cargo, express): quantity = max(real weight, L×W×H / divisor) kg
- unit "m3" (bateau): quantity = L×W×H / 1 000 000 m³
- price = max(minimum, rate × quantity), rounded to a multiple of `round_to`,
  to the nearest (halves up) or always up, as the tariff says.
"""

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

CM3_PER_M3 = Decimal(1_000_000)


@dataclass(frozen=True)
class Quote:
    quantity: Decimal
    amount: Decimal
    currency: str


def quote(*, unit: str, rate, divisor: int, minimum, round_to, rounding: str, currency: str,
          poids, longueur, largeur, hauteur) -> Quote:
    """Price one colis under one tariff. Every number may be a str, int or Decimal."""
    volume_cm3 = Decimal(longueur) * Decimal(largeur) * Decimal(hauteur)
    if unit == "kg":
        quantity = max(Decimal(poids), volume_cm3 / Decimal(divisor))
    elif unit == "m3":
        quantity = volume_cm3 / CM3_PER_M3
    else:
        raise ValueError(f"unknown tariff unit {unit!r}")
    raw = max(Decimal(minimum), Decimal(rate) * quantity)
    step = Decimal(round_to)
    mode = ROUND_CEILING if rounding == "up" else ROUND_HALF_UP
    amount = (raw / step).quantize(Decimal(1), rounding=mode) * step
    return Quote(quantity=quantity.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP),
                 amount=amount.quantize(Decimal("0.01")), currency=currency)


def quote_with_tariff(tariff, *, poids, longueur, largeur, hauteur) -> Quote:
    return quote(unit=tariff.unit, rate=tariff.rate, divisor=tariff.divisor,
                 minimum=tariff.minimum, round_to=tariff.round_to, rounding=tariff.rounding,
                 currency=tariff.currency, poids=poids, longueur=longueur, largeur=largeur,
                 hauteur=hauteur)
