"""Fixtures for the orders tests."""

import pytest

from accounts import abilities as ab
from accounts.models import Application
from accounts.services import role_grant


@pytest.fixture
def person_api(api, make_token):
    """An API client for a new user holding `role` (with a role record), token `abilities`."""

    def make(role: str | None, *, abilities=ab.ALL_ABILITIES, record=None):
        from tests.factories import EmployeeFactory

        user = record.user if record is not None else EmployeeFactory().user
        if role:
            for application in Application.objects.all():
                role_grant(user=user, application=application, role_name=role)
        api.credentials(
            HTTP_AUTHORIZATION=f"Bearer {make_token(user, token_abilities=abilities).raw}"
        )
        return api

    return make
