from tests.factories.accounts import (
    ApplicationRoleFactory,
    ClientFactory,
    EmployeeFactory,
    LiaisonFactory,
    UserFactory,
)

__all__ = [
    "ApplicationRoleFactory",
    "ClientFactory",
    "EmployeeFactory",
    "LiaisonFactory",
    "UserFactory",
]
