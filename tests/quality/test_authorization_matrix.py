"""Gate 2: object-level authorization, for every route that takes an object id.

The routes come from the URL conf: every pattern outside the admin with a path parameter must
have an entry in MATRIX, or `test_every_route_with_an_id_is_in_the_matrix` fails — a new route
cannot slip in untested. For each (route, method) four callers are tried against an object of
client A:

- owner: a user of client A holding the role the route needs → the route works (2xx);
- stranger: a user of client B holding the same role and abilities → the documented refusal
  for an object that does not exist, with the same status and body shape as for a made-up id
  (existence does not leak);
- lacking ability: the owner's user, a token without the route's ability → 403
  `permission-denied` naming the ability;
- expired session: the owner's user, a session created 8 days ago → 401 `session-expired`.

The admin (`admin/...`) is left out: it is staff only (tests/quality/test_security.py).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import abilities as ab
from accounts.models import ApiToken
from tests.factories import ClientFactory
from tests.factories.group_orders import GroupOrderFactory
from tests.factories.orders import OrderFactory
from tests.quality.world import completed_order, grant, token_for

pytestmark = pytest.mark.django_db


@dataclass
class Scene:
    """Client A's objects; a caller's user of client A and one of client B."""

    owner_user: object
    stranger_user: object
    order: object
    completed: object
    group_order: object


@dataclass(frozen=True)
class Probe:
    method: str
    ability: str
    role: str
    kwargs: Callable[[Scene], dict]  # the URL kwargs naming client A's object
    missing: dict  # the URL kwargs naming nothing
    body: Callable[[Scene], dict] | None = None
    customer_api: bool = False  # answers in the customer document's own bodies
    completion_api: bool = False  # answers in the completion document's own bodies


def _order(scene):
    return {"order_id": scene.order.pk}


def _group_order(scene):
    return {"public_id": str(scene.group_order.public_id)}


MISSING_ORDER = {"order_id": 999_999_999}
MISSING_GROUP_ORDER = {"public_id": "00000000-0000-4000-8000-000000000000"}

MATRIX: dict[str, list[Probe]] = {
    "api/orders/<str:order_id>": [
        Probe("GET", ab.ORDERS_READ, "viewer", _order, MISSING_ORDER),
        Probe(
            "PATCH",
            ab.ORDERS_WRITE,
            "order manager",
            _order,
            MISSING_ORDER,
            body=lambda s: {"first_name": "Patched"},
        ),
        Probe("DELETE", ab.ORDERS_WRITE, "order manager", _order, MISSING_ORDER),
    ],
    "api/orders/<int:order_id>/transitions": [
        Probe("GET", ab.ORDERS_READ, "viewer", _order, MISSING_ORDER),
    ],
    "api/orders/<int:order_id>/stages": [
        Probe("GET", ab.STAGES_READ, "viewer", _order, MISSING_ORDER),
    ],
    "api/v2/orders/<path:order_number>/complete": [
        Probe(
            "POST",
            ab.ORDERS_WRITE,
            "order manager",
            lambda s: {"order_number": s.order.number},
            {"order_number": "999999999"},
            completion_api=True,
        ),
    ],
    "api/v3/group_orders/<str:public_id>": [
        Probe("GET", ab.GROUP_ORDERS_READ, "viewer", _group_order, MISSING_GROUP_ORDER),
        Probe(
            "PATCH",
            ab.GROUP_ORDERS_WRITE,
            "group processor",
            _group_order,
            MISSING_GROUP_ORDER,
            body=lambda s: {"queue_job_id": "matrix-1"},
        ),
    ],
    "api/v3/group_orders/<str:public_id>/files/<str:kind>": [
        Probe(
            "GET",
            ab.GROUP_ORDERS_READ,
            "viewer",
            lambda s: {**_group_order(s), "kind": "file"},
            {**MISSING_GROUP_ORDER, "kind": "file"},
        ),
    ],
    "orders/<str:order_id>": [
        Probe(
            "GET",
            ab.ORDERS_READ,
            "customer",
            lambda s: {"order_id": s.completed.pk},
            MISSING_ORDER,
            customer_api=True,
        ),
    ],
}

CALLERS = ("owner", "stranger", "lacking ability", "expired session")


def url_patterns(patterns=None, prefix: str = ""):
    """(route, URLPattern) of every pattern of the URL conf, includes walked."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern.url_patterns, route)
        else:
            yield route, pattern


def routes_with_ids() -> dict[str, URLPattern]:
    """Every URL pattern outside the admin that takes a path parameter, by its route."""
    found = {}
    for route, pattern in url_patterns():
        if route.startswith("admin/"):
            continue
        converters = getattr(pattern.pattern, "converters", None)
        names = list(converters) if converters else list(pattern.pattern.regex.groupindex)
        if names:
            found[route] = pattern
    return found


def test_every_route_with_an_id_is_in_the_matrix():
    routes = routes_with_ids()
    missing = sorted(set(routes) - set(MATRIX))
    assert not missing, f"routes that take an id but have no authorization matrix entry: {missing}"
    gone = sorted(set(MATRIX) - set(routes))
    assert not gone, f"matrix entries for routes that no longer exist: {gone}"


def test_every_method_of_those_routes_is_in_the_matrix():
    for route, pattern in routes_with_ids().items():
        view = pattern.callback
        cls = getattr(view, "view_class", None) or getattr(view, "cls", None)
        actions = getattr(view, "actions", None)
        if actions:
            methods = {method.upper() for method in actions}
        else:
            methods = {
                name.upper()
                for name in ("get", "post", "patch", "put", "delete")
                if hasattr(cls, name)
            }
        methods -= {"HEAD", "OPTIONS"}  # HEAD is GET without a body; OPTIONS reads no object
        probed = {probe.method for probe in MATRIX[route]}
        assert methods == probed, f"{route}: methods {sorted(methods)}, probed {sorted(probed)}"


def cases():
    for route, probes in MATRIX.items():
        for probe in probes:
            for caller in CALLERS:
                yield pytest.param(route, probe, caller, id=f"{probe.method} {route} [{caller}]")


def _client_user(role: str):
    client = ClientFactory()
    grant(client.user, role)
    return client


@pytest.fixture
def scene():
    owner = _client_user("customer")  # every client user here is also a customer
    stranger = _client_user("customer")
    order = OrderFactory(customer=owner, stage="quality-check")
    return Scene(
        owner_user=owner.user,
        stranger_user=stranger.user,
        order=order,
        completed=completed_order(owner),
        group_order=GroupOrderFactory(client=owner, uploader=owner.user),
    )


def _url(route: str, kwargs: dict) -> str:
    from django.urls import reverse

    return reverse(routes_with_ids()[route].name, kwargs=kwargs)


def _call(raw: str, probe: Probe, url: str, scene: Scene):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = probe.body(scene) if probe.body else None
    return getattr(api, probe.method.lower())(url, body, format="json")


def _is_not_found(response, probe: Probe) -> bool:
    """The answer for an object that does not exist: each contract's own (404 for the customer
    and completion documents, invalid-param 400 in the platform's envelope)."""
    body, code = response.json(), response.status_code
    if probe.customer_api:
        return code == 404 and body == {"status": "error", "messages": ["No order found"]}
    if probe.completion_api:
        return code == 404 and body["details"][0] == "Error Code: 01"
    return code == 400 and body["status"] == "invalid-param"


@pytest.mark.parametrize(("route", "probe", "caller"), list(cases()))
def test_object_level_authorization(route, probe, caller, scene):
    for user in (scene.owner_user, scene.stranger_user):
        grant(user, probe.role)
    url = _url(route, probe.kwargs(scene))

    if caller == "owner":
        response = _call(token_for(scene.owner_user), probe, url, scene)
        assert 200 <= response.status_code < 300, (response.status_code, response.content[:300])

    elif caller == "stranger":
        response = _call(token_for(scene.stranger_user), probe, url, scene)
        made_up = _call(token_for(scene.stranger_user), probe, _url(route, probe.missing), scene)
        assert _is_not_found(made_up, probe), (made_up.status_code, made_up.content[:300])
        assert _is_not_found(response, probe), (response.status_code, response.content[:300])
        assert response.json().keys() == made_up.json().keys()

    elif caller == "lacking ability":
        others = [a for a in ab.ALL_ABILITIES if a != probe.ability]
        response = _call(token_for(scene.owner_user, abilities=others), probe, url, scene)
        assert response.status_code == 403, response.content[:300]
        assert response.json()["status"] == "permission-denied"
        assert probe.ability in response.json()["message"]

    else:  # an expired session: created 8 days ago, used yesterday
        raw = token_for(scene.owner_user, kind=ApiToken.Kind.SESSION)
        ApiToken.objects.filter(user=scene.owner_user, kind=ApiToken.Kind.SESSION).update(
            created_at=timezone.now() - timedelta(days=8),
            last_used_at=timezone.now() - timedelta(days=1),
        )
        response = _call(raw, probe, url, scene)
        assert response.status_code == 401, response.content[:300]
        assert response.json()["status"] == "session-expired"


def test_lists_show_a_client_user_their_clients_objects_and_staff_everything(scene):
    from tests.quality.world import employee

    grant(scene.owner_user, "viewer")
    theirs = OrderFactory(customer=ClientFactory(), stage="received")
    GroupOrderFactory(client=ClientFactory())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(scene.owner_user)}")
    listed = {row["order_id"] for row in api.get("/api/orders").json()["data"]}
    assert listed == {scene.order.pk, scene.completed.pk}
    groups = api.get("/api/v3/group_orders").json()["data"]["results"]
    assert [g["_id"] for g in groups] == [str(scene.group_order.public_id)]

    staff = APIClient()
    staff.credentials(HTTP_AUTHORIZATION=f"Bearer {employee('viewer').raw}")
    listed = {row["order_id"] for row in staff.get("/api/orders").json()["data"]}
    assert {scene.order.pk, scene.completed.pk, theirs.pk} <= listed


def test_a_client_user_cannot_create_an_order_for_another_client(scene):
    grant(scene.owner_user, "order manager")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(scene.owner_user)}")
    other = ClientFactory()
    response = api.post("/api/orders", {"first_name": "X", "customer_id": other.pk}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["customer_id"]
    own = scene.order.customer_id
    response = api.post("/api/orders", {"first_name": "X", "customer_id": own}, format="json")
    assert response.status_code == 201
