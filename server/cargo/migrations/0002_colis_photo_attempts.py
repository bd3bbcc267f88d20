from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cargo", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="colis",
            name="photo_attempts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
    ]
