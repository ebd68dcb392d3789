"""Integrator orders API: /api/orders and /api/orders/{order_id} (orders-rest-api.md)."""

from django.urls import path

from orders.api.views import OrderViewSet

urlpatterns = [
    path("orders", OrderViewSet.as_view({"get": "list", "post": "create"}), name="orders"),
    path(
        "orders/<str:order_id>",
        OrderViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="order",
    ),
]
