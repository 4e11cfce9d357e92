"""Shapes of the API's requests and responses, one module per resource. Reads come from
selectors; these only render."""
