import factory

from orders.models import Location, Order
from tests.factories.accounts import ClientFactory


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"loc-{n}")
    name = factory.Sequence(lambda n: f"Location {n}")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"{30000 + n}")
    hash = factory.LazyFunction(Order.new_hash)
    customer = factory.SubFactory(ClientFactory)
    location = factory.SubFactory(LocationFactory)
    first_name = "Tucker"
    last_name = "Vega"
    email = factory.Sequence(lambda n: f"buyer{n}@example.com")
    telephone = "+1 (604) 376-2674"
    order_type = "collection"
