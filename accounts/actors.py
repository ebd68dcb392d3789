"""Who acted: a user, an application (an integration token), or the system (job, command).

Every history row records one. Views build it from the request; tasks and commands use
`Actor.system`.
"""

from dataclasses import dataclass

from accounts.models import ApiToken, Application, User


@dataclass(frozen=True)
class Actor:
    kind: str  # "user" | "application" | "system"
    user: User | None = None
    application: Application | None = None
    label: str = ""

    @classmethod
    def for_user(cls, user: User, application: Application | None = None) -> "Actor":
        return cls(kind="user", user=user, application=application, label=user.full_name)

    @classmethod
    def for_token(cls, token: ApiToken, application: Application | None = None) -> "Actor":
        """A session acts as its user; an application token acts as its application."""
        application = application or token.application
        if token.kind == ApiToken.Kind.SESSION:
            return cls.for_user(token.user, application)
        return cls(
            kind="application",
            user=token.user,
            application=application,
            label=f"{application.slug} ({token.name or token.prefix})",
        )

    @classmethod
    def for_request(cls, request) -> "Actor":
        token = getattr(request, "auth", None)
        application = getattr(request, "application", None)
        if isinstance(token, ApiToken):
            return cls.for_token(token, application)
        return cls.for_user(request.user, application)

    @classmethod
    def system(cls, label: str) -> "Actor":
        return cls(kind="system", label=label)

    @property
    def display(self) -> str:
        if self.kind == "system":
            return f"system: {self.label}"
        return self.label or (self.user.email if self.user else "")
