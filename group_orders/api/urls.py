"""Group orders V3 API (/api/v3/group_orders...)."""

urlpatterns: list = []
