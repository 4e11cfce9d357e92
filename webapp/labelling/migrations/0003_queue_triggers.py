"""Triggers that keep labelling_queueitem true whoever writes or deletes pairs and votes.

See webapp/labelling/models.py. Statement-level triggers with transition tables: a COPY-based
import of 100,000 pairs runs each trigger once per statement, set-based, not once per row.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION labelling_queue_pairs_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO labelling_queueitem (pair_id, project_id, votes, leases, wanted)
    SELECT n.id, n.project_id, 0, 0, COALESCE(n.votes_wanted, p.votes_per_pair)
    FROM added n JOIN projects_project p ON p.id = n.project_id;
    RETURN NULL;
END $$;
CREATE TRIGGER labelling_queue_pairs_added AFTER INSERT ON pairs_pair
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION labelling_queue_pairs_added();

CREATE FUNCTION labelling_queue_pairs_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM labelling_queueitem q USING removed r WHERE q.pair_id = r.id;
    RETURN NULL;
END $$;
CREATE TRIGGER labelling_queue_pairs_removed AFTER DELETE ON pairs_pair
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
    EXECUTE FUNCTION labelling_queue_pairs_removed();

CREATE FUNCTION labelling_queue_pair_wanted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE labelling_queueitem q
    SET wanted = COALESCE(NEW.votes_wanted, p.votes_per_pair)
    FROM projects_project p
    WHERE q.pair_id = NEW.id AND p.id = NEW.project_id;
    RETURN NULL;
END $$;
CREATE TRIGGER labelling_queue_pair_wanted AFTER UPDATE OF votes_wanted ON pairs_pair
    FOR EACH ROW WHEN (OLD.votes_wanted IS DISTINCT FROM NEW.votes_wanted)
    EXECUTE FUNCTION labelling_queue_pair_wanted();

CREATE FUNCTION labelling_queue_project_wanted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE labelling_queueitem q
    SET wanted = NEW.votes_per_pair
    FROM pairs_pair pp
    WHERE q.project_id = NEW.id AND pp.id = q.pair_id AND pp.votes_wanted IS NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER labelling_queue_project_wanted AFTER UPDATE OF votes_per_pair ON projects_project
    FOR EACH ROW WHEN (OLD.votes_per_pair IS DISTINCT FROM NEW.votes_per_pair)
    EXECUTE FUNCTION labelling_queue_project_wanted();

CREATE FUNCTION labelling_queue_votes_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE labelling_queueitem q SET votes = q.votes + c.n
    FROM (SELECT pair_id, count(*) AS n FROM added GROUP BY pair_id) c
    WHERE q.pair_id = c.pair_id;
    RETURN NULL;
END $$;
CREATE TRIGGER labelling_queue_votes_added AFTER INSERT ON labelling_vote
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION labelling_queue_votes_added();

CREATE FUNCTION labelling_queue_votes_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE labelling_queueitem q SET votes = q.votes - c.n
    FROM (SELECT pair_id, count(*) AS n FROM removed GROUP BY pair_id) c
    WHERE q.pair_id = c.pair_id;
    RETURN NULL;
END $$;
CREATE TRIGGER labelling_queue_votes_removed AFTER DELETE ON labelling_vote
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
    EXECUTE FUNCTION labelling_queue_votes_removed();

-- Pairs and votes that exist already.
INSERT INTO labelling_queueitem (pair_id, project_id, votes, leases, wanted)
SELECT pp.id, pp.project_id,
    (SELECT count(*) FROM labelling_vote v WHERE v.pair_id = pp.id), 0,
    COALESCE(pp.votes_wanted, p.votes_per_pair)
FROM pairs_pair pp JOIN projects_project p ON p.id = pp.project_id;
"""

BACKWARD = """
DROP TRIGGER labelling_queue_votes_removed ON labelling_vote;
DROP FUNCTION labelling_queue_votes_removed();
DROP TRIGGER labelling_queue_votes_added ON labelling_vote;
DROP FUNCTION labelling_queue_votes_added();
DROP TRIGGER labelling_queue_project_wanted ON projects_project;
DROP FUNCTION labelling_queue_project_wanted();
DROP TRIGGER labelling_queue_pair_wanted ON pairs_pair;
DROP FUNCTION labelling_queue_pair_wanted();
DROP TRIGGER labelling_queue_pairs_removed ON pairs_pair;
DROP FUNCTION labelling_queue_pairs_removed();
DROP TRIGGER labelling_queue_pairs_added ON pairs_pair;
DROP FUNCTION labelling_queue_pairs_added();
DELETE FROM labelling_queueitem;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("labelling", "0002_queue_leases_gold_labels"),
        ("pairs", "0001_initial"),
        ("projects", "0002_labelling_settings"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
