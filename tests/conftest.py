"""Shared fixtures: API clients, people with roles, tokens, a controllable clock."""

from collections.abc import Callable
from importlib import import_module

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from rest_framework.test import APIClient

from accounts import abilities as ab
from accounts.models import ApiToken, Application, User
from accounts.roles import sync_roles
from accounts.services import IssuedToken, role_grant, token_issue
from tests.factories import EmployeeFactory


@pytest.fixture(autouse=True)
def _migration_seeds_after_flush(request):
    """A transactional test's flush removes what the data migrations seeded (applications,
    roles, the stage lifecycle); seed it again, with the migration state's apps, before each
    transactional test."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    state_apps = MigrationLoader(connection).project_state().apps
    import_module("accounts.migrations.0002_seed_applications_and_roles").seed_applications(
        state_apps, None
    )
    sync_roles(state_apps)
    import_module("stages.migrations.0002_seed_lifecycle").seed(state_apps, None)


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def application() -> Application:
    return Application.objects.get(slug="planoauth")


@pytest.fixture
def make_token(application) -> Callable[..., IssuedToken]:
    def make(
        user: User,
        *,
        token_abilities=ab.ALL_ABILITIES,
        app: Application | None = None,
        kind: str = ApiToken.Kind.APPLICATION,
        **kwargs,
    ) -> IssuedToken:
        return token_issue(
            user=user,
            application=app or application,
            kind=kind,
            token_abilities=token_abilities,
            **kwargs,
        )

    return make


@pytest.fixture
def staff_member(application) -> User:
    """An employee holding the order manager role in every application."""
    user = EmployeeFactory().user
    for app in Application.objects.all():
        role_grant(user=user, application=app, role_name="order manager")
    return user


@pytest.fixture
def staff_api(api, staff_member, make_token) -> APIClient:
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(staff_member).raw}")
    return api


@pytest.fixture
def role() -> Callable[[str], Group]:
    return lambda name: Group.objects.get(name=name)


class Clock:
    """A frozen, movable `timezone.now` for expiry rules."""

    def __init__(self, monkeypatch, start):
        self.now = start
        monkeypatch.setattr("django.utils.timezone.now", lambda: self.now)

    def advance(self, **delta):
        from datetime import timedelta

        self.now = self.now + timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    from datetime import UTC, datetime

    return Clock(monkeypatch, datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


def pytest_collection_modifyitems(config, items):
    """`@pytest.mark.postgres` tests run only when DATABASE_URL points at PostgreSQL."""
    import os

    if os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql")):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
