"""The platform's roles: Django groups and the permissions each one holds.

The data migrations call `sync_roles` (with the historical app registry); a later migration
that adds models adds its permissions by calling it again.
"""

ORDER_MANAGER = "order manager"
STAGE_OPERATOR = "stage operator"
GROUP_UPLOADER = "group uploader"
GROUP_PROCESSOR = "group processor"
VIEWER = "viewer"
CUSTOMER = "customer"
LIAISON = "liaison"

_VIEW_ALL = [
    "accounts.view_client",
    "orders.view_order",
    "orders.view_orderline",
    "orders.view_ordertotal",
    "orders.view_orderrequest",
    "orders.view_shipment",
    "orders.view_location",
    "orders.view_plan",
    "orders.view_package",
    "stages.view_stage",
    "stages.view_orderstatus",
    "stages.view_orderstage",
    "group_orders.view_grouporder",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    ORDER_MANAGER: _VIEW_ALL
    + [
        "accounts.add_client",
        "accounts.change_client",
        "orders.add_order",
        "orders.change_order",
        "orders.delete_order",
        "orders.request_completion",
        "orders.view_jobflowrule",
        "orders.add_orderrequest",
        "orders.change_orderrequest",
        "stages.add_orderstage",
        "group_orders.add_grouporder",
    ],
    STAGE_OPERATOR: _VIEW_ALL + ["stages.add_orderstage"],
    GROUP_UPLOADER: _VIEW_ALL + ["group_orders.add_grouporder"],
    GROUP_PROCESSOR: _VIEW_ALL + ["group_orders.change_grouporder"],
    VIEWER: list(_VIEW_ALL),
    CUSTOMER: ["orders.view_own_orders"],
    # sees the orders of the clients they work for, through the customer API
    LIAISON: ["orders.view_own_orders"],
}


def sync_roles(apps, schema_editor=None) -> None:
    """Create every role group and give it each of its permissions that exists by now."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # historical app configs have no models_module; create_permissions skips those
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        for name in names:
            app_label, codename = name.split(".")
            permission = permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:
                group.permissions.add(permission)
