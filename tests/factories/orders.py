from decimal import Decimal

import factory

from accounts.actors import Actor
from orders.models import (
    Address,
    Location,
    Order,
    OrderLine,
    OrderRequest,
    OrderTotal,
    Package,
    Plan,
    ServiceType,
    Shipment,
    ShipmentItem,
)
from tests.factories.accounts import ClientFactory

FACTORY_ACTOR = Actor.system("factory")


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"loc-{n}")
    name = factory.Sequence(lambda n: f"Location {n}")


class ServiceTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceType
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"service-{n}")
    name = factory.Sequence(lambda n: f"Service {n}")


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    client = None
    first_name = "Naveen"
    last_name = "Jain"
    address = "2201 Broadway"
    city = "Oakland"
    state = "CA"
    postal_code = "94612"
    country = "US"


class PackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Package

    name = factory.Sequence(lambda n: f"Package {n}")
    description = "Package description"
    shipping_domestic = Decimal("5.00")
    shipping_international = Decimal("11.00")


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    name = factory.Sequence(lambda n: f"Plan Name {n}")
    css_class = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-"))
    description = "<p>Plan description or else nil</p>"
    online_benefits = "<p>Plan online benefits or else nil</p>"
    annotations = "<p>Plan annotations or else nil</p>"
    duration = 12
    price = Decimal("50.00")
    package = factory.SubFactory(PackageFactory)


class OrderFactory(factory.django.DjangoModelFactory):
    """An order row. Pass `stage="received"` (or any slug) to give it a current status."""

    class Meta:
        model = Order
        skip_postgeneration_save = True

    number = factory.Sequence(lambda n: f"{30000 + n}")
    hash = factory.LazyFunction(Order.new_hash)
    customer = factory.SubFactory(ClientFactory)
    location = factory.SubFactory(LocationFactory)
    first_name = "Tucker"
    last_name = "Vega"
    email = factory.Sequence(lambda n: f"buyer{n}@example.com")
    telephone = "+1 (604) 376-2674"
    order_type = "collection"

    @factory.post_generation
    def stage(obj, create, extracted, **kwargs):
        if create and extracted:
            from stages.services import stage_record

            stage_record(order=obj, stage=extracted, actor=FACTORY_ACTOR, check_transition=False)
            obj.refresh_from_db()


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    name = factory.Sequence(lambda n: f"Item {n}")
    quantity = 1
    price = Decimal("5.0000")
    subtotal = factory.LazyAttribute(lambda o: o.price * o.quantity)


class OrderTotalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderTotal

    order = factory.SubFactory(OrderFactory)
    code = "total"
    title = factory.LazyAttribute(lambda o: o.code.capitalize())
    value = Decimal("55.00")


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment

    order = factory.SubFactory(OrderFactory)
    status = Shipment.Status.QUEUED


class ShipmentItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShipmentItem

    shipment = factory.SubFactory(ShipmentFactory)
    name = factory.Sequence(lambda n: f"Item {n}")
    option = "Option 1"


class OrderRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderRequest

    client = factory.SubFactory(ClientFactory)
    location = factory.SubFactory(LocationFactory)
