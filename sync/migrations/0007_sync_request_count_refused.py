from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sync', '0006_task_supervision_and_lot_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='syncrequestcount',
            name='refused',
            field=models.PositiveIntegerField(default=0),
        ),
    ]
