from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from django.db.models import CharField

        from config.lookups import AnyOf

        CharField.register_lookup(AnyOf)
