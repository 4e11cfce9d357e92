"""Which open pair an annotator gets next: a small registry of orders.

An order is an SQL ``ORDER BY`` over the queue row ``q`` (labelling_queueitem); the queue query
(queue.assignment_next) adds the filters every order shares: the project, open pairs only
(``q.taken < q.wanted``), not one this annotator was already given. A project names its order
in ``Project.queue_order``.

Each order needs an index that walks the open pairs of a project in that order, or "next" reads
the whole queue. ``fewest_votes`` has ``queue_open_fewest`` (see models.QueueItem). An order added
later registers itself here and brings its own partial index in a migration, as
``most_ambiguous`` does (``queue_open_priority``, migration 0004).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueueOrder:
    name: str
    label: str
    order_by: str  # SQL over the queue row "q"; must end with a unique key so it is total

    def over(self, column: str) -> str:
        """The order over a queue of another unit (items: ``q.item_id``), whose rows hold the
        same columns but their own key."""
        return self.order_by.replace("q.pair_id", f"q.{column}")


_ORDERS: dict[str, QueueOrder] = {}
DEFAULT = "fewest_votes"


def register(order: QueueOrder) -> QueueOrder:
    _ORDERS[order.name] = order
    return order


def get(name: str) -> QueueOrder:
    """The named order, or the default one for a name nobody registered (an old setting)."""
    return _ORDERS.get(name) or _ORDERS[DEFAULT]


def choices() -> list[tuple[str, str]]:
    return [(order.name, order.label) for order in _ORDERS.values()]


register(
    QueueOrder(
        name="fewest_votes",
        label="Fewest votes first (then oldest pair)",
        # Votes and live leases together: two annotators asking at once get different pairs.
        order_by="q.taken, q.pair_id",
    )
)


register(
    QueueOrder(
        name="most_ambiguous",
        label="Most ambiguous or disputed first (after a scoring run), then fewest votes",
        # q.priority is set by the review app's ambiguity-driven votes; 0 for other pairs.
        order_by="q.priority DESC, q.taken, q.pair_id",
    )
)
