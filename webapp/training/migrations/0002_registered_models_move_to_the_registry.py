# RegisteredModel moves to the registry app (registry 0001 renames its table); only Django's
# state changes here.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="RegisteredModel")],
            database_operations=[],
        ),
    ]
