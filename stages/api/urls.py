"""Stage APIs (/api/v1/order_stages, /api/orders/{id}/stages, /transitions)."""

from django.urls import path

from stages.api import views

urlpatterns = [
    path("v1/order_stages", views.OrderStageCreateView.as_view(), name="order-stages-create"),
    path(
        "orders/<int:order_id>/transitions",
        views.OrderTransitionsView.as_view(),
        name="order-transitions",
    ),
    path(
        "orders/<int:order_id>/stages",
        views.OrderStageHistoryView.as_view(),
        name="order-stage-history",
    ),
]
