"""Review of flagged pairs: the queue, audited decisions, pair history, dashboards."""
