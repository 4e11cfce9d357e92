"""The pages of a project that show several stages at once: the project list, a project's
page (its pairs, imports, jobs, labelling progress and scoring runs), its settings and
members, and a pair's page. They sit on top of the stages (see webapp/stages.py)."""
