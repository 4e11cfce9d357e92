"""Triggers on the review decision log (see webapp/review/models.py).

* Decisions are append-only: an UPDATE of a decision is refused. (Rows go away only with their
  pair or project.)
* ``review_pairreview`` holds the decision in force per pair: a statement-level trigger with a
  transition table upserts it from the newest inserted decision of each pair, so a bulk
  decision of 100,000 pairs is one INSERT ... SELECT and one set-based upsert.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION review_decision_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'review decisions are append-only: record a new decision instead';
END $$;
CREATE TRIGGER review_decision_append_only BEFORE UPDATE ON review_reviewdecision
    FOR EACH STATEMENT EXECUTE FUNCTION review_decision_append_only();

CREATE FUNCTION review_decision_in_force() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO review_pairreview (pair_id, project_id, decision_id, outcome, label, decided_at)
    SELECT DISTINCT ON (n.pair_id) n.pair_id, n.project_id, n.id, n.outcome, n.label_after,
        n.created_at
    FROM added n ORDER BY n.pair_id, n.id DESC
    ON CONFLICT (pair_id) DO UPDATE SET decision_id = excluded.decision_id,
        outcome = excluded.outcome, label = excluded.label, decided_at = excluded.decided_at
    WHERE review_pairreview.decision_id < excluded.decision_id;
    RETURN NULL;
END $$;
CREATE TRIGGER review_decision_in_force AFTER INSERT ON review_reviewdecision
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION review_decision_in_force();
"""

BACKWARD = """
DROP TRIGGER review_decision_in_force ON review_reviewdecision;
DROP FUNCTION review_decision_in_force();
DROP TRIGGER review_decision_append_only ON review_reviewdecision;
DROP FUNCTION review_decision_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("review", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
