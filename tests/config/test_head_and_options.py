"""HEAD and OPTIONS on every route of the API, found from the URL conf as the authorization
matrix finds its routes (tests/quality/test_authorization_matrix.py), so a new route is covered
without being listed here.

- HEAD needs exactly what GET needs: for every caller, HEAD answers GET's status and headers
  (ability, permission and object visibility alike); a route without GET answers 405.
- OPTIONS needs a caller who may call at least one method of the route (its ability and its
  role's permission; no object is read): it answers 200 with `Allow`, else what that method
  would answer (401 without a token, 403 without any ability or permission the route needs).
"""

from dataclasses import dataclass

import pytest
from django.urls import URLPattern, reverse
from rest_framework.permissions import AllowAny
from rest_framework.test import APIClient

from accounts import abilities as ab
from accounts.models import ApiToken
from config.api.permissions import HasRoleAndAbility
from tests.factories import ClientFactory, EmployeeFactory
from tests.factories.group_orders import GroupOrderFactory
from tests.factories.orders import OrderFactory
from tests.quality.test_authorization_matrix import MATRIX, Scene, url_patterns
from tests.quality.world import completed_order, grant, token_for

pytestmark = pytest.mark.django_db

# the headers a HEAD must share with the GET it stands for (Date, X-Request-ID vary per call)
SHARED_HEADERS = ("Content-Type", "ETag", "Allow", "Content-Disposition", "WWW-Authenticate")


@dataclass(frozen=True)
class Route:
    route: str
    pattern: URLPattern
    view_class: type
    methods: frozenset[str]  # what the route answers, HEAD and OPTIONS included

    @property
    def takes_token(self) -> bool:
        return AllowAny not in self.view_class.permission_classes

    @property
    def needs_an_ability(self) -> bool:
        """Whether every method needs an ability (so a token with none may call nothing)."""
        guarded = any(issubclass(p, HasRoleAndAbility) for p in self.view_class.permission_classes)
        accesses = getattr(self.view_class, "required_access", {}).values()
        return guarded and all(access.ability for access in accesses)


def api_routes() -> list[Route]:
    """Every Django REST framework view of the URL conf outside the admin."""
    found = []
    for route, pattern in url_patterns():
        view_class = getattr(pattern.callback, "cls", None)
        if route.startswith("admin/") or view_class is None:
            continue
        actions = getattr(pattern.callback, "actions", None)
        if actions:
            methods = {method.upper() for method in actions}
        else:
            methods = {
                name.upper()
                for name in ("get", "post", "put", "patch", "delete")
                if hasattr(view_class, name)
            }
        if "GET" in methods:
            methods.add("HEAD")
        found.append(Route(route, pattern, view_class, frozenset(methods | {"OPTIONS"})))
    return found


ROUTES = api_routes()


def url_of(route: Route, scene: Scene) -> str:
    """The route naming client A's object (the matrix's URL kwargs), or the route itself."""
    probes = MATRIX.get(route.route)
    if probes is None:
        return "/" + route.route
    probe = next((p for p in probes if p.method == "GET"), probes[0])
    return reverse(route.pattern.name, kwargs=probe.kwargs(scene))


def _client_user(*roles: str):
    client = ClientFactory()
    for role in roles:
        grant(client.user, role)
    return client


@pytest.fixture
def scene() -> Scene:
    owner = _client_user("customer", "viewer")
    stranger = _client_user("customer", "viewer")
    return Scene(
        owner_user=owner.user,
        stranger_user=stranger.user,
        order=OrderFactory(customer=owner, stage="quality-check"),
        completed=completed_order(owner),
        group_order=GroupOrderFactory(client=owner, uploader=owner.user),
    )


def _api(raw: str | None) -> APIClient:
    api = APIClient()
    if raw:
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def _session(user) -> str:
    return token_for(user, kind=ApiToken.Kind.SESSION)


def _body(response) -> bytes:
    """The start of a body, for a failure's message (a file download streams)."""
    if response.streaming:
        return b"<streamed>"
    return _body(response)


def _shared(response) -> dict[str, str | None]:
    return {name: response.headers.get(name) for name in SHARED_HEADERS}


def test_the_routes_are_found():
    found = {route.route for route in ROUTES}
    assert {"api/v3/group_orders", "api/v3/group_orders/<str:public_id>", "api/orders"} <= found
    assert set(MATRIX) <= found


@pytest.mark.parametrize("route", [r for r in ROUTES if "GET" in r.methods], ids=lambda r: r.route)
def test_head_needs_exactly_what_get_needs(route, scene):
    callers = {
        "owner": _session(scene.owner_user),
        "stranger": _session(scene.stranger_user),
        "another role": _session(_client_user("customer").user),  # no view_* permissions
        "no ability": token_for(scene.owner_user, abilities=()),
        "no token": None,
    }
    url = url_of(route, scene)
    answers = {}
    for caller, raw in callers.items():
        got, head = _api(raw).get(url), _api(raw).head(url)
        assert head.status_code == got.status_code, (caller, head.status_code, _body(got))
        assert _shared(head) == _shared(got), caller
        answers[caller] = got.status_code
    assert 200 <= answers["owner"] < 300, answers  # so the comparison also covers a success
    if route.needs_an_ability:
        assert answers["no ability"] == 403, answers
    if route.takes_token:
        assert answers["no token"] == 401, answers


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if "GET" not in r.methods], ids=lambda r: r.route
)
def test_head_of_a_route_without_get_is_method_not_allowed(route, scene):
    response = _api(_session(scene.owner_user)).head(url_of(route, scene))
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == set(route.methods)


# (OPTIONS /api/docs was a 500: drf-spectacular's Swagger UI page rendered DRF's OPTIONS
# metadata with its HTML renderer, which has no template for it; config.api.views.ApiDocsView)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.route)
def test_options_answers_a_caller_who_may_call_a_method_of_the_route(route, scene):
    everyone = EmployeeFactory().user
    for role in ("order manager", "group processor", "customer"):
        grant(everyone, role)
    url = url_of(route, scene)

    response = _api(_session(everyone)).options(url)
    assert response.status_code == 200, _body(response)
    assert set(response.headers["Allow"].split(", ")) == set(route.methods)

    response = _api(token_for(scene.owner_user, abilities=())).options(url)
    if route.needs_an_ability:
        assert response.status_code == 403, _body(response)
        assert response.json()["status"] == "permission-denied"
    else:
        assert response.status_code == 200, _body(response)

    response = _api(None).options(url)
    assert response.status_code == (401 if route.takes_token else 200), _body(response)


def test_options_is_open_to_a_token_that_may_only_patch(scene):
    processor = EmployeeFactory().user
    grant(processor, "group processor")
    api = _api(token_for(processor, abilities=[ab.GROUP_ORDERS_WRITE]))
    url = f"/api/v3/group_orders/{scene.group_order.public_id}"
    assert api.get(url).status_code == 403
    assert api.head(url).status_code == 403
    response = api.options(url)
    assert response.status_code == 200, _body(response)
    assert set(response.headers["Allow"].split(", ")) == {"GET", "PATCH", "HEAD", "OPTIONS"}
    assert api.patch(url, {"queue_job_id": "only-patch"}, format="json").status_code == 200


def test_options_of_a_route_a_caller_may_read_but_not_write(scene):
    viewer = _api(_session(scene.owner_user))  # viewer: may list orders, may not create one
    response = viewer.options("/api/orders")
    assert response.status_code == 200, _body(response)
    assert "POST" not in response.json().get("actions", {})
    assert viewer.post("/api/orders", {"first_name": "X"}, format="json").status_code == 403


def test_options_needs_the_permission_as_well_as_the_ability(scene):
    customer = _client_user("customer").user  # every ability, no group order permission
    response = _api(_session(customer)).options("/api/v3/group_orders")
    assert response.status_code == 403
    assert "group_orders.view_grouporder" in response.json()["message"]


def test_options_of_an_object_reads_no_object(scene):
    api = _api(_session(scene.stranger_user))
    mine = _api(_session(scene.owner_user))
    for public_id in (scene.group_order.public_id, "00000000-0000-4000-8000-000000000000"):
        url = f"/api/v3/group_orders/{public_id}"
        assert api.options(url).status_code == 200
        assert api.head(url).status_code == 400  # the stranger cannot see it
    assert mine.head(f"/api/v3/group_orders/{scene.group_order.public_id}").status_code == 200
