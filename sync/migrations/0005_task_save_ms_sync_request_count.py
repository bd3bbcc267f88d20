from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sync', '0004_task_cancel_reason'),
    ]

    operations = [
        migrations.AddField(
            model_name='colistask',
            name='save_ms',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name='SyncRequestCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True,
                                           serialize=False, verbose_name='ID')),
                ('hour', models.DateTimeField(unique=True)),
                ('total', models.PositiveIntegerField(default=0)),
                ('server_errors', models.PositiveIntegerField(default=0)),
            ],
            options={
                'ordering': ['hour'],
            },
        ),
    ]
