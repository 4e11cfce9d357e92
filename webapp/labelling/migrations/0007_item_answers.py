"""Items served like pairs: answers on items, their queue rows and the triggers that keep
those true whoever writes (the same rules as 0003_queue_triggers for pairs), assignments of
either unit, and votes derived from an answer."""

import django.db.models.deletion
import django.db.models.expressions
from django.conf import settings
from django.db import migrations, models


ITEM_TRIGGERS = """
CREATE FUNCTION labelling_item_queue_items_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO labelling_itemqueueitem (item_id, project_id, votes, leases, wanted)
    SELECT n.id, n.project_id, 0, 0, COALESCE(n.answers_wanted, p.votes_per_pair)
    FROM added n JOIN projects_project p ON p.id = n.project_id;
    RETURN NULL;
END $$;
CREATE TRIGGER labelling_item_queue_items_added AFTER INSERT ON pairs_item
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION labelling_item_queue_items_added();

CREATE FUNCTION labelling_item_queue_items_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM labelling_itemqueueitem q USING removed r WHERE q.item_id = r.id;
    RETURN NULL;
END $$;
CREATE TRIGGER labelling_item_queue_items_removed AFTER DELETE ON pairs_item
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
    EXECUTE FUNCTION labelling_item_queue_items_removed();

CREATE FUNCTION labelling_item_queue_item_wanted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE labelling_itemqueueitem q
    SET wanted = COALESCE(NEW.answers_wanted, p.votes_per_pair)
    FROM projects_project p
    WHERE q.item_id = NEW.id AND p.id = NEW.project_id;
    RETURN NULL;
END $$;
CREATE TRIGGER labelling_item_queue_item_wanted AFTER UPDATE OF answers_wanted ON pairs_item
    FOR EACH ROW WHEN (OLD.answers_wanted IS DISTINCT FROM NEW.answers_wanted)
    EXECUTE FUNCTION labelling_item_queue_item_wanted();

CREATE FUNCTION labelling_item_queue_project_wanted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE labelling_itemqueueitem q
    SET wanted = NEW.votes_per_pair
    FROM pairs_item i
    WHERE q.project_id = NEW.id AND i.id = q.item_id AND i.answers_wanted IS NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER labelling_item_queue_project_wanted AFTER UPDATE OF votes_per_pair
    ON projects_project
    FOR EACH ROW WHEN (OLD.votes_per_pair IS DISTINCT FROM NEW.votes_per_pair)
    EXECUTE FUNCTION labelling_item_queue_project_wanted();

CREATE FUNCTION labelling_item_queue_answers_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE labelling_itemqueueitem q SET votes = q.votes + c.n
    FROM (SELECT item_id, count(*) AS n FROM added GROUP BY item_id) c
    WHERE q.item_id = c.item_id;
    RETURN NULL;
END $$;
CREATE TRIGGER labelling_item_queue_answers_added AFTER INSERT ON labelling_itemanswer
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION labelling_item_queue_answers_added();

CREATE FUNCTION labelling_item_queue_answers_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE labelling_itemqueueitem q SET votes = q.votes - c.n
    FROM (SELECT item_id, count(*) AS n FROM removed GROUP BY item_id) c
    WHERE q.item_id = c.item_id;
    RETURN NULL;
END $$;
CREATE TRIGGER labelling_item_queue_answers_removed AFTER DELETE ON labelling_itemanswer
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
    EXECUTE FUNCTION labelling_item_queue_answers_removed();
"""

ITEM_TRIGGERS_BACKWARD = """
DROP TRIGGER labelling_item_queue_answers_removed ON labelling_itemanswer;
DROP FUNCTION labelling_item_queue_answers_removed();
DROP TRIGGER labelling_item_queue_answers_added ON labelling_itemanswer;
DROP FUNCTION labelling_item_queue_answers_added();
DROP TRIGGER labelling_item_queue_project_wanted ON projects_project;
DROP FUNCTION labelling_item_queue_project_wanted();
DROP TRIGGER labelling_item_queue_item_wanted ON pairs_item;
DROP FUNCTION labelling_item_queue_item_wanted();
DROP TRIGGER labelling_item_queue_items_removed ON pairs_item;
DROP FUNCTION labelling_item_queue_items_removed();
DROP TRIGGER labelling_item_queue_items_added ON pairs_item;
DROP FUNCTION labelling_item_queue_items_added();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('labelling', '0006_repeat_answers'),
        ('pairs', '0005_items_and_derived_pairs'),
        ('projects', '0005_label_schemes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ItemAnswer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('ranking', 'Ranking'), ('best_worst', 'Best and worst'), ('rating', 'Rating'), ('pairwise_attributes', 'Pairwise per attribute')], max_length=20)),
                ('payload', models.JSONField()),
                ('shown_order', models.JSONField(blank=True, default=list)),
                ('time_taken_ms', models.PositiveIntegerField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.CreateModel(
            name='ItemQueueItem',
            fields=[
                ('votes', models.IntegerField(default=0)),
                ('leases', models.IntegerField(default=0)),
                ('wanted', models.IntegerField(default=3)),
                ('priority', models.FloatField(db_default=0, default=0)),
                ('taken', models.GeneratedField(db_persist=True, expression=django.db.models.expressions.CombinedExpression(models.F('votes'), '+', models.F('leases')), output_field=models.IntegerField())),
                ('item', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='queue_item', serialize=False, to='pairs.item')),
            ],
        ),
        migrations.AddField(
            model_name='assignment',
            name='item',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='assignments', to='pairs.item'),
        ),
        migrations.AlterField(
            model_name='assignment',
            name='pair',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='assignments', to='pairs.pair'),
        ),
        migrations.AddConstraint(
            model_name='assignment',
            constraint=models.UniqueConstraint(condition=models.Q(('item__isnull', False)), fields=('item', 'annotator'), name='one_item_assignment_per_annotator'),
        ),
        migrations.AddConstraint(
            model_name='assignment',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('item__isnull', True), ('pair__isnull', False)), models.Q(('item__isnull', False), ('pair__isnull', True)), _connector='OR'), name='assignment_is_of_a_pair_or_an_item'),
        ),
        migrations.AddField(
            model_name='itemanswer',
            name='annotator',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='item_answers', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='itemanswer',
            name='assignment',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='item_answer', to='labelling.assignment'),
        ),
        migrations.AddField(
            model_name='itemanswer',
            name='item',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='answers', to='pairs.item'),
        ),
        migrations.AddField(
            model_name='itemanswer',
            name='project',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='projects.project'),
        ),
        migrations.AddField(
            model_name='vote',
            name='item_answer',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='derived_votes', to='labelling.itemanswer'),
        ),
        migrations.AddIndex(
            model_name='vote',
            index=models.Index(condition=models.Q(('item_answer__isnull', False)), fields=['item_answer'], name='vote_derived'),
        ),
        migrations.AddField(
            model_name='itemqueueitem',
            name='project',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='projects.project'),
        ),
        migrations.AddIndex(
            model_name='itemanswer',
            index=models.Index(fields=['project', 'kind'], name='item_answer_project_kind'),
        ),
        migrations.AddConstraint(
            model_name='itemanswer',
            constraint=models.UniqueConstraint(fields=('item', 'annotator'), name='one_answer_per_annotator'),
        ),
        migrations.AddIndex(
            model_name='itemqueueitem',
            index=models.Index(condition=models.Q(('taken__lt', models.F('wanted'))), fields=['project', 'taken', 'item'], name='item_queue_open_fewest'),
        ),
        migrations.AddIndex(
            model_name='itemqueueitem',
            index=models.Index(models.F('project'), models.OrderBy(models.F('priority'), descending=True), models.F('taken'), models.F('item'), condition=models.Q(('taken__lt', models.F('wanted'))), name='item_queue_open_priority'),
        ),
        migrations.RunSQL(ITEM_TRIGGERS, ITEM_TRIGGERS_BACKWARD),
    ]
