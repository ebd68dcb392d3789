"""A probe endpoint guarded like any real one, so the API glue can be tested on its own."""

from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.params import body_params
from config.api.permissions import Access
from config.urls import urlpatterns as platform_urls


class ProbeView(APIView):
    accepts_token_param = True
    required_access = {
        "get": Access("orders:read", "accounts.view_client"),
        "post": Access("orders:write", "accounts.add_client"),
    }

    def get(self, request):
        return Response({"application": request.application.slug})

    def post(self, request):
        return Response({"params": sorted(body_params(request))})


class CrashView(APIView):
    required_access = {"get": Access(None, None)}

    def get(self, request):
        raise RuntimeError("secret internals")


urlpatterns = [
    path("api/probe", ProbeView.as_view()),
    path("api/crash", CrashView.as_view()),
    path("", include(platform_urls)),
]
handler404 = "config.urls.handler404"
handler500 = "config.urls.handler500"
