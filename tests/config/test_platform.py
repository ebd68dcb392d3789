"""OpenAPI schema, Swagger UI, health, production settings."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from group_orders.services import worker_heartbeat

pytestmark = pytest.mark.django_db


def test_openapi_schema_documents_routes_and_the_error_envelope(api):
    response = api.get("/api/schema?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/sessions" in schema["paths"]
    assert "ErrorEnvelope" in schema["components"]["schemas"]
    login = schema["paths"]["/api/v1/sessions"]["post"]
    assert {"400", "401", "403", "500"} <= set(login["responses"])
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_schema_generation_has_no_warnings():
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--file",
            os.devnull,
        ],
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_swagger_ui_is_served(api):
    response = api.get("/api/docs")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_health_without_a_worker_is_degraded(api):
    body = api.get("/health").json()
    assert body["database"] == "ok"
    assert body["worker"] == {"alive": False, "last_seen": None}
    assert body["status"] == "degraded"


def test_health_with_a_recent_worker_heartbeat_is_ok(api):
    worker_heartbeat(worker_id="w1", started_at=timezone.now() - timedelta(minutes=5))
    body = api.get("/health").json()
    assert body["status"] == "ok" and body["worker"]["alive"] is True


def test_production_settings_refuse_to_start_without_the_essentials():
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL"}}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        env=env,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr or "ALLOWED_HOSTS" in result.stderr


def test_production_settings_pass_the_deploy_check():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "x" * 60 + "-production-like-secret-key-for-the-check",
        "ALLOWED_HOSTS": "orders.example.com",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/orderdesk_deploycheck",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
