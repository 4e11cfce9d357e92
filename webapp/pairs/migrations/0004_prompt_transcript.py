from django.db import migrations, models
from django.db.models import Case, F, Func, When

# A conversation as one text in HH-RLHF's layout, ending where the assistant's answer starts.
# jsonb_to_recordset returns the messages in the array's order, and a plain aggregate over one
# function scan keeps that order (an ORDER BY would sort every prompt's messages). STRICT: a
# NULL conversation gives NULL. IMMUTABLE, as a stored generated column needs: it reads
# nothing but its argument.
TRANSCRIPT_FUNCTION = r"""
CREATE FUNCTION preflab_transcript(conversation jsonb) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT string_agg(
        CASE m.role WHEN 'user' THEN E'\n\nHuman: '
             WHEN 'assistant' THEN E'\n\nAssistant: '
             ELSE E'\n\n' || initcap(m.role) || ': ' END || m.content,
        '') || E'\n\nAssistant: '
    FROM pg_catalog.jsonb_to_recordset(conversation) AS m(role text, content text)
$$
"""


class Migration(migrations.Migration):
    dependencies = [
        ("pairs", "0003_pair_project_index_is_the_unique_one"),
    ]

    operations = [
        migrations.RunSQL(TRANSCRIPT_FUNCTION, "DROP FUNCTION preflab_transcript(jsonb)"),
        migrations.AddField(
            model_name="prompt",
            name="transcript",
            field=models.GeneratedField(
                db_persist=True,
                expression=Case(
                    When(conversation__isnull=True, then=F("text")),
                    default=Func(
                        F("conversation"),
                        function="preflab_transcript",
                        output_field=models.TextField(),
                    ),
                ),
                output_field=models.TextField(),
            ),
        ),
    ]
