"""The REST API: the same services, selectors and access checks as the pages, as JSON; one
module per resource, its request and response shapes in ``webapp.api.serializers``.

Every project-scoped endpoint goes through ``project_for_user`` with the role its page needs:
someone else's project, pair, job or export is a 404, never a 403. Annotators label blind: the
labelling endpoints show sides (left / right), never A or B, labels, models or other votes, and
the endpoints that show labels (pairs, exports) need a reviewer.
"""
