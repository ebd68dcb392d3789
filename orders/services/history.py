"""Who acted, for the simple-history row of the next save or delete."""

from accounts.actors import Actor
from orders.models import Order


def _stamp(order: Order, actor: Actor, what: str) -> None:
    """Tell simple-history who acted and what they did, for the next save or delete."""
    order._history_user = actor.user
    order._change_reason = f"{what} by {actor.display}"[:100]


def _history_reason(actor: Actor, what: str) -> str:
    return f"{what} by {actor.display}"[:100]
