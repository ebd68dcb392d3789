"""Customer orders API (/orders, /orders/latest, /orders/{id}). Filled by the orders work."""

urlpatterns: list = []
