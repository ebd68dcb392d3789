"""Human order numbers: unique, increasing, never reused."""

from django.db import connection, transaction
from django.db.models import F

from orders.models import Order, OrderNumberCounter


def order_numbers_allocate(*, count: int) -> list[str]:
    """`count` order numbers nobody has, in increasing order; gaps are possible, reuse is not.

    PostgreSQL: `nextval` of the sequence `order_number_seq` (no lock held until commit, so
    concurrent creators never wait on each other). Elsewhere: a counter row. A number that an
    import once gave explicitly is skipped.
    """
    if count <= 0:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval('order_number_seq') FROM generate_series(1, %s)", [count]
            )
            values = [row[0] for row in cursor.fetchall()]
    else:
        with transaction.atomic():
            OrderNumberCounter.objects.get_or_create(name="order")
            OrderNumberCounter.objects.filter(name="order").update(
                last_value=F("last_value") + count
            )
            last = OrderNumberCounter.objects.get(name="order").last_value
            values = list(range(last - count + 1, last + 1))
    numbers = [str(value) for value in values]
    if len(numbers[0]) == len(numbers[-1]):
        # numbers of one length sort as text as they do as numbers: one range of the index
        # holds every order number that could be among them (usually none)
        in_range = Order.objects.filter(number__gte=numbers[0], number__lte=numbers[-1])
        taken = set(in_range.values_list("number", flat=True)) & set(numbers)
    else:
        taken = set(Order.objects.filter(number__any_of=numbers).values_list("number", flat=True))
    if taken:
        numbers = [n for n in numbers if n not in taken] + order_numbers_allocate(count=len(taken))
    return numbers
