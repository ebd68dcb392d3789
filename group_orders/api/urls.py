"""Group orders V3 API (/api/v3/group_orders...)."""

from django.urls import path

from group_orders.api.views import GroupOrderDetailView, GroupOrderFileView, GroupOrderListView

urlpatterns = [
    path("v3/group_orders", GroupOrderListView.as_view(), name="group-orders"),
    path("v3/group_orders/<str:public_id>", GroupOrderDetailView.as_view(), name="group-order"),
    path(
        "v3/group_orders/<str:public_id>/files/<str:kind>",
        GroupOrderFileView.as_view(),
        name="group-order-file",
    ),
]
