"""A probe endpoint guarded like any real one, so the API glue can be tested on its own."""

from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Client
from config.api.errors import InvalidParam
from config.api.idempotency import IdempotentPostMixin
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


class IdempotentProbeView(IdempotentPostMixin, APIView):
    """Creates a client per request, like any create endpoint."""

    required_access = {"post": Access("orders:write", "accounts.add_client")}

    def post(self, request):
        params = body_params(request)
        if params.get("explode"):
            raise RuntimeError("crash after a write")
        if params.get("refuse"):
            raise InvalidParam("refuse", "Refused on purpose.")
        client = Client.objects.create(name=str(params.get("name", "")))
        return Response({"id": client.pk, "name": client.name}, status=201)


class CrashView(APIView):
    required_access = {"get": Access(None, None)}

    def get(self, request):
        raise RuntimeError("secret internals")


urlpatterns = [
    path("api/probe", ProbeView.as_view()),
    path("api/crash", CrashView.as_view()),
    path("api/idempotent-probe", IdempotentProbeView.as_view()),
    path("", include(platform_urls)),
]
handler404 = "config.urls.handler404"
handler500 = "config.urls.handler500"
