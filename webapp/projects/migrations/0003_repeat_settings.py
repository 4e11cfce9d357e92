# Self-consistency repeats belong to the labelling queue; their two settings move here from
# checks.ChecksSettings (the values are copied by checks 0003).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0002_labelling_settings"),
    ]

    operations = [
        migrations.AddField(
            model_name="project",
            name="repeat_share",
            field=models.FloatField(default=0.0),
        ),
        migrations.AddField(
            model_name="project",
            name="repeat_gap",
            field=models.PositiveIntegerField(default=20),
        ),
    ]
