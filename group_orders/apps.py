from django.apps import AppConfig


class GroupOrdersConfig(AppConfig):
    name = "group_orders"
    verbose_name = "Group orders and jobs"

    def ready(self) -> None:
        # Job kinds live in <app>/jobs.py of any app; import them so every worker knows them.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("jobs")
