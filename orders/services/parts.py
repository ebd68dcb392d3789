"""Lines, totals, shipments and shipment items of an order (the admin's inlines)."""

from django.db import transaction

from accounts.actors import Actor
from config.api.errors import InvalidParam
from orders.models import Address, Order, OrderLine, OrderTotal, Shipment, ShipmentItem
from orders.services.changes import _lock, _save
from orders.services.drafts import ZERO, _check_amount

# --------------------------------------------------------------------------- parts

OrderPart = OrderLine | OrderTotal | Shipment | ShipmentItem


def _part_order_id(part: OrderPart) -> int:
    if isinstance(part, ShipmentItem):
        return Shipment.objects.values_list("order_id", flat=True).get(pk=part.shipment_id)
    return part.order_id


def _check_part(part: OrderPart) -> None:
    if isinstance(part, OrderLine):
        if part.quantity < 1:
            raise InvalidParam("quantity", "quantity must be at least 1.")
        _check_amount(part.price, "price")
        _check_amount(part.subtotal, "subtotal")
    elif isinstance(part, OrderTotal):
        _check_amount(part.value, "value")
    elif isinstance(part, Shipment) and part.shipping_address_id:
        address_client = Address.objects.values_list("client_id", flat=True).get(
            pk=part.shipping_address_id
        )
        customer = Order.objects.values_list("customer_id", flat=True).get(pk=part.order_id)
        if address_client not in (None, customer):
            raise InvalidParam("shipping_address", "The address belongs to another client.")


def _refresh_amounts(order: Order) -> list[str]:
    """total_items and order_total follow the lines and the `total` row once they exist."""
    lines = list(OrderLine.objects.filter(order=order).values_list("quantity", "subtotal"))
    total = OrderTotal.objects.filter(order=order, code="total").values_list("value", flat=True)
    changed = []
    if lines:
        items = sum(quantity for quantity, _ in lines)
        if order.total_items != items:
            order.total_items = items
            changed.append("total_items")
    amount = total.first()
    if amount is None and lines:
        amount = sum((subtotal for _, subtotal in lines), ZERO)
    if amount is not None and order.order_total != amount:
        order.order_total = amount
        changed.append("order_total")
    return changed


@transaction.atomic
def order_part_save(*, part: OrderPart, actor: Actor) -> OrderPart:
    """Add or change a line, total, shipment or shipment item of an order (admin).

    Locks the order (refusing a deleted one), checks amounts, keeps total_items/order_total
    in step with the lines and the `total` row, bumps the order's version and writes its
    history row naming the part.
    """
    order = _lock(_part_order_id(part))
    _check_part(part)
    if isinstance(part, OrderLine) and not part.subtotal:
        part.subtotal = part.price * part.quantity
    adding = part.pk is None
    part.save()
    what = f"{'Added' if adding else 'Changed'} {part._meta.verbose_name} {part}"
    _save(order, actor, what[:60], _refresh_amounts(order))
    return part


@transaction.atomic
def order_part_delete(*, part: OrderPart, actor: Actor) -> None:
    """Remove a line, total, shipment or shipment item (admin); same rules as saving."""
    order = _lock(_part_order_id(part))
    label = f"Removed {part._meta.verbose_name} {part}"
    part.delete()
    _save(order, actor, label[:60], _refresh_amounts(order))
