# Self-consistency repeats are part of the labelling queue: the answers' table, created by
# checks 0001, becomes labelling's (same rows, same indexes, renamed).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("labelling", "0005_merge_priority_and_repeats"),
        ("checks", "0002_repeat_answers_belong_to_labelling"),
        ("pairs", "0004_prompt_transcript"),
        ("projects", "0002_labelling_settings"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="RepeatAnswer",
                    fields=[
                        ("assignment", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name="repeat_answer", serialize=False, to="labelling.assignment")),
                        ("choice", models.CharField(max_length=10)),
                        ("shown_order", models.CharField(max_length=2)),
                        ("created_at", models.DateTimeField()),
                        ("annotator", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("pair", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="pairs.pair")),
                        ("project", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="projects.project")),
                    ],
                    options={
                        "indexes": [models.Index(fields=["project", "annotator"], name="repeat_project_annotator")],
                    },
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE checks_repeatanswer RENAME TO labelling_repeatanswer",
                    reverse_sql="ALTER TABLE labelling_repeatanswer RENAME TO checks_repeatanswer",
                ),
            ],
        ),
    ]
