# The model registry was part of the training app: its table, created by training 0001,
# becomes the registry's (same rows, same constraint, renamed).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("projects", "0002_labelling_settings"),
        ("training", "0002_registered_models_move_to_the_registry"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="RegisteredModel",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("version", models.PositiveIntegerField()),
                        ("kind", models.CharField(choices=[("head", "Reward head on the frozen encoder (CPU)"), ("finetune", "Full fine-tune (GPU worker)")], max_length=20)),
                        ("path", models.CharField(max_length=1000)),
                        ("files", models.JSONField(default=list)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("project", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="registered_models", to="projects.project")),
                        ("run", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="model", to="training.trainingrun")),
                    ],
                    options={
                        "ordering": ["-version"],
                        "constraints": [models.UniqueConstraint(fields=("project", "version"), name="one_model_per_version")],
                    },
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE training_registeredmodel RENAME TO registry_registeredmodel",
                    reverse_sql="ALTER TABLE registry_registeredmodel RENAME TO training_registeredmodel",
                ),
            ],
        ),
    ]
