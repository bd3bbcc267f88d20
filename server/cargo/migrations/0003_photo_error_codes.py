"""photo_error held French sentences; it holds codes now (sync/images.py, sync/photos.py),
rendered in the viewer's language. Rows written before are turned into their codes."""

from django.db import migrations

SENTENCES = {
    "Le fichier photo est vide (0 octet).": "photo_empty",
    "Ce fichier n'est pas une photo acceptée (JPEG, PNG, WebP ou HEIC).": "photo_not_image",
    "La photo est tronquée ou illisible : reprenez-la.": "photo_unreadable",
    "La photo est trop grande (plus de 40 mégapixels).": "photo_too_big",
    "La photo reçue est introuvable sur le serveur : renvoyez-la.": "photo_missing",
}


def to_codes(apps, schema_editor):
    Colis = apps.get_model("cargo", "Colis")
    for sentence, code in SENTENCES.items():
        Colis.objects.filter(photo_error=sentence).update(photo_error=code)


def to_sentences(apps, schema_editor):
    Colis = apps.get_model("cargo", "Colis")
    for sentence, code in SENTENCES.items():
        Colis.objects.filter(photo_error=code).update(photo_error=sentence)


class Migration(migrations.Migration):

    dependencies = [
        ("cargo", "0002_colis_photo_attempts"),
    ]

    operations = [migrations.RunPython(to_codes, to_sentences)]
