from django.contrib import admin
from django.urls import include, path, re_path
from django.views.defaults import page_not_found, server_error
from drf_spectacular.views import SpectacularAPIView

from config.api.exceptions import api_crash, api_route_not_found
from config.api.views import ApiDocsView, health

api_patterns = [
    path("", include("accounts.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("stages.api.urls")),
    path("", include("group_orders.api.urls")),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", ApiDocsView.as_view(url_name="schema"), name="swagger-ui"),
    # last: any other /api/ path is route-non-existent, even with DEBUG on
    re_path(r"^.*$", api_route_not_found),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("health", health, name="health"),
    path("", include("orders.api.customer_urls")),
]


def handler404(request, exception=None):
    if request.path.startswith("/api/"):
        return api_route_not_found(request, exception)
    return page_not_found(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return api_crash(request)
    return server_error(request)
