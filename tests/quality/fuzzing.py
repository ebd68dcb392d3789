"""Schemathesis against the platform's own OpenAPI schema (`/api/schema`), in-process.

The schema is fetched from the running Django application through its WSGI handler, and every
generated request goes through the same handler, so the test sees the test database. Each
operation is called with a valid token for it (see `caller_for`); NUL bytes and any unicode are
allowed in generated strings.

Sizes come from the environment, so `make fuzz` runs the same gate bigger:

| variable | CI default | meaning |
|---|---|---|
| `FUZZ_EXAMPLES` | 12 | Hypothesis examples per operation (fuzzing phase) |
| `FUZZ_SEED` | random | reproduce a run (the seed is printed on failure and in the summary) |
| `FUZZ_COVERAGE` | 1 | run schemathesis' coverage phase (boundary and negative values) too |
"""

import os
import random
from collections import Counter
from dataclasses import dataclass

import jsonschema_rs
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import strategies as st
from schemathesis.checks import CHECKS, load_all_checks

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
SEED = int(os.environ.get("FUZZ_SEED") or random.SystemRandom().randrange(2**32))
COVERAGE = os.environ.get("FUZZ_COVERAGE", "1") != "0"

# What the gate asserts: no 5xx; every status code, content type, header and body as
# documented; schema-violating input refused; no auth bypass; 405 (with Allow) for a method
# the path does not have. Not asserted: `positive_data_acceptance` — a schema-valid request may
# still be refused for reasons a schema cannot state (an id that names nothing, a stage move
# the lifecycle forbids); those refusals are themselves checked against the schema.
CHECK_NAMES = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "ignored_auth",
)
load_all_checks()
CHECKS_RUN = [CHECKS.get_one(name) for name in CHECK_NAMES]


def _form_cannot_carry(body) -> bool:
    """Whether a form (urlencoded or multipart: flat text fields) cannot carry this body as
    generated: not an object at all (`[]`, `null` travel as the multipart preamble, which the
    format ignores, RFC 2046), or an object holding objects (`lines: [{name: ...}]`)."""
    if not isinstance(body, dict):
        return True
    for value in body.values():
        items = value if isinstance(value, list) else [value]
        if any(isinstance(item, (dict, list)) for item in items):
            return True
    return False


def checks_for(case) -> list:
    """Every check, for every case — but one: a "negative" form body that a form cannot carry
    arrives as something else (an empty form, flat strings), which the server rightly reads
    as what arrived. Such a case is still checked for 5xx and for its answer's status, headers
    and body against the schema."""
    media_type = case.media_type or ""
    form = media_type.startswith("multipart/") or media_type.endswith("x-www-form-urlencoded")
    if form and _form_cannot_carry(case.body):
        return [check for check in CHECKS_RUN if check.__name__ != "negative_data_rejection"]
    return CHECKS_RUN


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "max-examples": EXAMPLES,
            "allow-x00": True,
            "codec": "utf-8",
            "mode": "all",
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": COVERAGE},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
    }
)


def load_schema():
    """The platform's schema, as `/api/schema` serves it, bound to the WSGI application."""
    return schemathesis.openapi.from_wsgi(
        "/api/schema?format=json", get_wsgi_application(), config=CONFIG
    )


class InProcessRequests:
    """Django closes "old" connections at each request's start and end; in a test that shares
    the test transaction with the application that would close it. Django's own test client
    does the same as this."""

    def __enter__(self):
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        return self

    def __exit__(self, *exc_info):
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@dataclass
class Tally:
    """Examples sent per operation, for the summary line."""

    examples: Counter

    def add(self, label: str) -> None:
        self.examples[label] += 1


TALLY = Tally(Counter())


def operation_id(case) -> str:
    return case.operation.definition.raw.get("operationId", case.operation.label)


def real_path_values(world, operation_label: str, name: str) -> list[str]:
    """Existing objects for a path parameter, so that some examples hit real rows (taken from
    the world's snapshot: the choices must not change between draws)."""
    from group_orders.selectors import FILE_KINDS

    if name == "kind":
        return list(FILE_KINDS)
    if name == "public_id":
        return world.group_order_public_ids
    if name == "order_number":
        return world.order_numbers[:10]
    if name == "order_id":
        if operation_label.startswith("GET /orders"):  # the customer API
            return [str(o.pk) for o in world.customer_orders + world.other_orders]
        return [str(pk) for pk in world.order_pks[:10]]
    return []


def _schema_valid(operation, path_parameters: dict) -> bool:
    """Whether generated path parameters match their schemas (a negative case must keep its
    invalid values: replacing them by a real id would make the API rightly accept it)."""
    for parameter in operation.path_parameters:
        schema = parameter.definition.get("schema", {})
        value = path_parameters.get(parameter.name)
        if not jsonschema_rs.validator_for(schema).is_valid(value):
            return False
    return True


def install_hooks(schema, world_ref: dict) -> None:
    """Path parameters: what schemathesis generates, or an id that exists."""

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        world = world_ref.get("world")
        if world is None or not path_parameters:
            return st.just(path_parameters)
        if not _schema_valid(context.operation, path_parameters):
            return st.just(path_parameters)
        label = context.operation.label
        choices = [path_parameters]
        for name in path_parameters:
            for value in real_path_values(world, label, name):
                choices.append({**path_parameters, name: str(value)})
        if len(path_parameters) > 1:  # a real object with a real kind, too
            names = sorted(path_parameters)
            pools = [real_path_values(world, label, name) for name in names]
            if all(pools):
                return st.one_of(
                    st.sampled_from(choices),
                    st.tuples(*(st.sampled_from([str(v) for v in pool]) for pool in pools)).map(
                        lambda values: dict(zip(names, values, strict=True))
                    ),
                )
        return st.sampled_from(choices)


def caller_for(world, case):
    """The token each operation is called with: the customer for the customer API, a group
    processor for a group order PATCH, a fresh session where the call consumes it (log out,
    client registration), nobody for registration and login, and an order manager otherwise."""
    from accounts.models import ApiToken
    from tests.factories import UserFactory
    from tests.quality.world import Caller, token_for

    op = operation_id(case)
    if op.startswith("customer_"):
        return world.customer
    if op == "group_orders_update":
        return world.processor
    if op in ("users_register", "sessions_create"):
        return None
    if op == "sessions_logout" or op == "sessions_current":
        user = world.staff.user
        return Caller(user=user, raw=token_for(user, kind=ApiToken.Kind.SESSION))
    if op == "users_client_register":
        user = UserFactory()
        return Caller(user=user, raw=token_for(user, kind=ApiToken.Kind.SESSION))
    return world.staff


def with_token(case, caller) -> dict[str, str]:
    """Headers for the call: the caller's bearer token — unless schemathesis meant to send a
    negated Authorization header (then its own value goes, and a 401 is expected).

    A generated `token` body or query field is dropped: the Plano endpoints accept the token
    there as an alternative to the header, which OpenAPI cannot state, so a valid one would
    defeat the missing-credentials checks and a random one would only ever test the 401.
    """
    for container in (case.body, case.query):
        if isinstance(container, dict):
            container.pop("token", None)
    if caller is None or case.operation.schema.is_security_param_negated(case):
        return {}
    return caller.header
