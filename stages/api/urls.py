"""Stage APIs (/api/v1/order_stages, /api/orders/{id}/stages, /transitions)."""

urlpatterns: list = []
