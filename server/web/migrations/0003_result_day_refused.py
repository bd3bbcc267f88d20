from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('web', '0002_result_period'),
    ]

    operations = [
        migrations.AddField(
            model_name='resultday',
            name='refused',
            field=models.PositiveIntegerField(default=0),
        ),
    ]
