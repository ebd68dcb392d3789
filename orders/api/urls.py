"""Integrator orders API: /api/orders and /api/orders/{order_id} (orders-rest-api.md);
/api/v2/orders/{order_number}/complete (order-complete-api-v2.txt)."""

from django.urls import path

from orders.api.completion_views import OrderCompleteView
from orders.api.views import OrderViewSet

urlpatterns = [
    path("orders", OrderViewSet.as_view({"get": "list", "post": "create"}), name="orders"),
    path(
        "orders/<str:order_id>",
        OrderViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="order",
    ),
    # `path`, not `str`: a number with a slash is still an order number that does not exist
    path(
        "v2/orders/<path:order_number>/complete",
        OrderCompleteView.as_view(),
        name="order-complete-v2",
    ),
]
