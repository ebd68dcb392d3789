"""Customer orders API: /orders, /orders/latest, /orders/{id} (customer-orders-api.txt)."""

from django.urls import path

from orders.api.views import (
    CustomerOrderDetailView,
    CustomerOrderLatestView,
    CustomerOrderListView,
)

urlpatterns = [
    path("orders", CustomerOrderListView.as_view(), name="customer-orders"),
    path("orders/latest", CustomerOrderLatestView.as_view(), name="customer-orders-latest"),
    path("orders/<str:order_id>", CustomerOrderDetailView.as_view(), name="customer-order"),
]
