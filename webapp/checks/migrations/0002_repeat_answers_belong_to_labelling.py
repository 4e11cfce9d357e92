# RepeatAnswer moves to the labelling app (labelling 0006 renames its table); only Django's
# state changes here.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("checks", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="RepeatAnswer")],
            database_operations=[],
        ),
    ]
