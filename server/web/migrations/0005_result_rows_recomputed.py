"""« Résultats »' daily rows kept the save time in 1 % buckets; they now keep exact counts
per ms (figures._histograms). The rows are a cache of the tasks: dropped, each day is
computed again at the page's next view."""

from django.db import migrations


def drop(apps, schema_editor):
    apps.get_model("web", "ResultPeriod").objects.all().delete()
    apps.get_model("web", "ResultDay").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("web", "0004_result_period_basis"),
    ]

    operations = [
        migrations.RunPython(drop, migrations.RunPython.noop),
    ]
