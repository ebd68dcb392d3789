from django.apps import AppConfig


class GroupOrdersConfig(AppConfig):
    name = "group_orders"
    verbose_name = "Group orders and jobs"
