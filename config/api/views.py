"""Platform endpoints that belong to no app: health, the API docs page."""

from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.renderers import JSONRenderer


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def _storage_ok() -> bool:
    try:
        default_storage.exists("health-check")
        return True
    except Exception:
        return False


def _worker() -> dict:
    from group_orders.selectors import worker_last_seen

    try:
        seen = worker_last_seen()
    except Exception:
        seen = None
    stale_after = timedelta(seconds=settings.ORDERDESK_WORKER_STALE_SECONDS)
    alive = seen is not None and timezone.now() - seen <= stale_after
    return {"alive": alive, "last_seen": seen.isoformat() if seen else None}


def health(request):
    """Database, storage and worker heartbeat. 200 when the database answers, else 503."""
    database = _database_ok()
    worker = _worker() if database else {"alive": False, "last_seen": None}
    body = {
        "status": "ok" if database and worker["alive"] else ("degraded" if database else "down"),
        "database": "ok" if database else "unavailable",
        "storage": "ok" if _storage_ok() else "unavailable",
        "worker": worker,
    }
    return JsonResponse(body, status=200 if database else 503)


class ApiDocsView(SpectacularSwaggerView):
    """The Swagger UI page. Its HTML renderer has no template for DRF's OPTIONS answer (a 500
    for anyone): OPTIONS answers in JSON, as every other API route does."""

    def get_renderers(self):
        request = getattr(self, "request", None)
        if request is not None and request.method == "OPTIONS":
            return [JSONRenderer()]
        return super().get_renderers()
