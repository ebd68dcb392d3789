"""Gate 5: security checks.

- a token never appears in the logs (Django's and gunicorn's access log), whether it was
  accepted or refused, sent in the header or as the Plano `token` parameter;
- a token is shown once by the admin, never on its pages afterwards;
- production settings: Django's default password hasher (PBKDF2), secure headers (HSTS,
  nosniff, X-Frame-Options, secure cookies), seen on a real response;
- the admin is behind a staff login and enforces CSRF;
- uploads are stored under generated names, inside the media root, outside the static root.
"""

import logging
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiToken, Application
from tests.factories import EmployeeFactory, UserFactory
from tests.factories.accounts import PASSWORD
from tests.factories.group_orders import catalogue, fixture_bytes
from tests.quality.world import employee, token_for

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "quality-gate-" + "x" * 50,
    "ALLOWED_HOSTS": "localhost,127.0.0.1,testserver",
    "DATABASE_URL": "sqlite:////tmp/orderdesk-quality-production.sqlite3",
    # production serves hashed static files from a manifest: collected once for these tests
    "STATIC_ROOT": str(ROOT / "var" / "quality-static"),
}


def production_python(code: str) -> str:
    """Run `code` with the production settings (a fresh process: settings load once)."""
    env = {**os.environ, **PRODUCTION_ENV}
    if not (Path(PRODUCTION_ENV["STATIC_ROOT"]) / "staticfiles.json").exists():
        collected = subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert collected.returncode == 0, collected.stderr[-2000:]
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


# ----------------------------------------------------------------------------- tokens in logs


@pytest.mark.django_db
def test_tokens_never_reach_the_logs(caplog):
    caller = employee("order manager")
    revoked = token_for(caller.user)
    ApiToken.objects.filter(prefix=revoked[3:15]).update(revoked_at="2026-01-01T00:00:00Z")
    bogus = "od_" + "A" * 12 + "B" * 40
    api = APIClient()
    with caplog.at_level(logging.DEBUG):
        for raw in (caller.raw, revoked, bogus):
            api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
            api.get("/api/orders")
            api.credentials()
            api.get(f"/api/v3/group_orders?token={raw}")
            api.post("/api/v1/order_stages", {"token": raw, "stage": "x"}, format="json")
        login = api.post(
            "/api/v1/sessions",
            {"email": caller.user.email, "password": PASSWORD},
            format="json",
        )
        session_raw = login.json()["data"]["token"]
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {session_raw}")
        api.delete("/api/v1/sessions/current")
        api.get("/api/v1/sessions/current")  # refused: revoked
    # what the handlers write: the message, its arguments, a traceback if any
    logged = "\n".join(
        f"{record.name} {record.getMessage()} {record.args!r} {record.exc_text or ''}"
        for record in caplog.records
    )
    assert caplog.records, "nothing was logged: the test would prove nothing"
    for raw in (caller.raw, revoked, bogus, session_raw):
        assert raw not in logged
        assert raw[15:] not in logged  # not even the secret part


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorns_access_log_leaves_out_query_strings(tmp_path):
    """The Plano endpoints take `token` in the query string, and signed download links carry a
    signature there: the access log records the path only."""
    port = _free_port()
    access_log = tmp_path / "access.log"
    env = {
        **os.environ,
        **PRODUCTION_ENV,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "1",
        "GUNICORN_ACCESS_LOG": str(access_log),
        "SECURE_SSL_REDIRECT": "false",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    secret = "od_QUALITYGATE1" + "s" * 40
    try:
        url = f"http://127.0.0.1:{port}/api/no-such-route?token={secret}&signature={secret}"
        for _ in range(100):  # up to 10 s for the server to listen
            try:
                urllib.request.urlopen(url, timeout=2)
            except urllib.error.HTTPError:
                break  # an answer (401): it is up
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not start")
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = access_log.read_text()
    assert "/api/no-such-route" in text
    assert secret not in text and "token=" not in text


# ----------------------------------------------------------------------------- admin


@pytest.mark.django_db
def test_the_admin_shows_a_token_once(admin_client):
    user = UserFactory()
    response = admin_client.post(
        "/admin/accounts/apitoken/add/",
        {
            "user": user.pk,
            "application": Application.objects.get(slug="planoorder").pk,
            "name": "ERP",
            "abilities": ["orders:read"],
        },
    )
    raw = re.search(r"od_[A-Za-z0-9_\-]{20,}", response.content.decode()).group(0)
    token = ApiToken.objects.get(user=user)
    assert raw.startswith(f"od_{token.prefix}")
    for url in (
        "/admin/accounts/apitoken/",
        f"/admin/accounts/apitoken/{token.pk}/change/",
        f"/admin/accounts/apitoken/{token.pk}/history/",
        "/admin/",  # recent actions
    ):
        page = admin_client.get(url)
        assert page.status_code == 200, url
        assert raw not in page.content.decode(), url
        assert raw[15:] not in page.content.decode(), url


@pytest.mark.django_db
def test_the_admin_needs_a_staff_login():
    anonymous = Client()
    response = anonymous.get("/admin/orders/order/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    customer = UserFactory()
    signed_in = Client()
    signed_in.force_login(customer)
    response = signed_in.get("/admin/orders/order/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    staff = EmployeeFactory(user=UserFactory(is_staff=True)).user
    signed_in.force_login(staff)
    assert signed_in.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_the_admin_enforces_csrf():
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    assert response.status_code == 403  # no CSRF token
    client.get("/admin/login/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/admin/login/",
        {"username": staff.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302  # logged in with the token
    response = client.post("/admin/logout/")
    assert response.status_code == 403  # a state change without the token is refused


# ----------------------------------------------------------------------------- production


def test_production_hashes_passwords_with_djangos_default():
    out = production_python(
        "from django.conf import settings, global_settings\n"
        "from django.contrib.auth.hashers import make_password, get_hasher\n"
        "assert settings.PASSWORD_HASHERS == global_settings.PASSWORD_HASHERS\n"
        "print(get_hasher().algorithm, make_password('orderdesk').split('$')[0])\n"
    )
    assert out.split() == ["pbkdf2_sha256", "pbkdf2_sha256"]


def test_production_sends_secure_headers():
    out = production_python(
        "from django.conf import settings\n"
        "from django.test import Client\n"
        "assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE\n"
        "assert settings.SESSION_COOKIE_HTTPONLY and not settings.DEBUG\n"
        "assert settings.SECURE_SSL_REDIRECT\n"
        "plain = Client().get('/admin/login/')\n"
        "print('redirect', plain.status_code, plain.get('Location'))\n"
        "r = Client().get('/admin/login/', secure=True)\n"
        "for name in ('Strict-Transport-Security', 'X-Content-Type-Options',\n"
        "             'X-Frame-Options', 'Referrer-Policy'):\n"
        "    print(name, r.get(name))\n"
        "print('cookie', r.cookies['csrftoken']['secure'])\n"
    )
    lines = dict(line.split(" ", 1) for line in out.strip().splitlines())
    assert lines["redirect"] == "301 https://testserver/admin/login/"
    hsts = lines["Strict-Transport-Security"]
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000
    assert "includeSubDomains" in hsts
    assert lines["X-Content-Type-Options"] == "nosniff"
    assert lines["X-Frame-Options"] == "DENY"
    assert lines["Referrer-Policy"] == "same-origin"
    assert lines["cookie"] == "True"


# ----------------------------------------------------------------------------- uploads


@pytest.mark.django_db
def test_uploads_get_generated_names_outside_the_static_root(django_capture_on_commit_callbacks):
    from group_orders.models import GroupOrder

    catalogue()
    caller = employee("order manager")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {caller.raw}")
    hostile = "../../static/<script>evil.csv"
    upload = SimpleUploadedFile(hostile, fixture_bytes("orders_mixed.csv"), "text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v3/group_orders", {"file": upload}, format="multipart")
    assert response.status_code == 201, response.json()
    group_order = GroupOrder.objects.get(public_id=response.json()["data"]["_id"])
    assert group_order.original_filename == "<script>evil.csv"  # kept as data only
    media = Path(settings.MEDIA_ROOT).resolve()
    static = Path(settings.STATIC_ROOT).resolve()
    assert not media.is_relative_to(static) and not static.is_relative_to(media)
    names = [group_order.file.name] + [
        getattr(group_order, kind).name
        for kind in ("normalized_csv", "accepted_orders_xlsx", "rejected_orders_xlsx")
    ]
    for name in names:
        assert name, names
        assert "evil" not in name and ".." not in name and "<" not in name, name
        path = Path(group_order.file.storage.path(name)).resolve()
        assert path.is_relative_to(media) and path.exists(), path
    out = production_python(
        "from pathlib import Path\nfrom django.conf import settings\n"
        "print(Path(settings.MEDIA_ROOT).resolve(), Path(settings.STATIC_ROOT).resolve())"
    )
    production_media, production_static = (Path(p) for p in out.split())
    assert not production_media.is_relative_to(production_static)
