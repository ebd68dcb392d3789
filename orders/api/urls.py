"""Integrator orders API (/api/orders...). Filled by the orders work."""

urlpatterns: list = []
