"""How a client hears about their colis: log (default), email, webhook (signed JSON)."""

import hashlib
import hmac
import json
import logging
import urllib.request

from django.conf import settings
from django.core.mail import send_mail

log = logging.getLogger("colis.notifications")

SUBJECTS = {
    "colis_registered": "Votre colis {numero} est enregistré",
    "colis_updated": "Votre colis {numero} a été mis à jour",
}


def message_for(colis, event: str) -> dict:
    return {
        "event": event,
        "numero_suivi": colis.numero_suivi,
        "numero_lot": colis.lot.numero_lot,
        "client": {"nom": colis.client.nom, "telephone": colis.client.telephone},
        "poids": str(colis.poids),
        "prix": str(colis.prix_calcule) if colis.prix_calcule is not None else None,
        "devise": colis.devise,
    }


def send_log(colis, event: str, payload: dict) -> None:
    log.info("notify %s %s", event, json.dumps(payload, ensure_ascii=False))


def send_email(colis, event: str, payload: dict) -> None:
    if not colis.client.email:
        return
    subject = SUBJECTS.get(event, "Votre colis {numero}").format(numero=colis.numero_suivi)
    body = (f"Colis {colis.numero_suivi}, lot {payload['numero_lot']}, "
            f"{payload['poids']} kg, prix {payload['prix'] or '—'} {payload['devise']}.")
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [colis.client.email])


def send_webhook(colis, event: str, payload: dict) -> None:
    post_signed(settings.NOTIFY_WEBHOOK_URL, payload)


def post_signed(url: str, payload: dict) -> None:
    """POST `payload` as JSON, signed by HMAC-SHA256 with NOTIFY_WEBHOOK_SECRET."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    signature = hmac.new(settings.NOTIFY_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "X-Colis-Signature": f"sha256={signature}"})
    with urllib.request.urlopen(request, timeout=settings.NOTIFY_WEBHOOK_TIMEOUT) as response:
        if response.status >= 300:
            raise RuntimeError(f"webhook answered {response.status}")


CHANNELS = {"log": send_log, "email": send_email, "webhook": send_webhook}
