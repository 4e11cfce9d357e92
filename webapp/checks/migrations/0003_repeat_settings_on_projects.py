# The repeat share and gap now live on the project (projects 0003): copy them, then drop them
# here.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("checks", "0002_repeat_answers_belong_to_labelling"),
        ("projects", "0003_repeat_settings"),
    ]

    operations = [
        migrations.RunSQL(
            """UPDATE projects_project p SET repeat_share = c.repeat_share,
                   repeat_gap = c.repeat_gap
               FROM checks_checkssettings c WHERE c.project_id = p.id""",
            reverse_sql="""UPDATE checks_checkssettings c SET repeat_share = p.repeat_share,
                   repeat_gap = p.repeat_gap
               FROM projects_project p WHERE c.project_id = p.id""",
        ),
        migrations.RemoveField(model_name="checkssettings", name="repeat_share"),
        migrations.RemoveField(model_name="checkssettings", name="repeat_gap"),
    ]
