"""The integrator orders API (orders-rest-api.md) and the customer orders API
(customer-orders-api.txt). Thin: parse, call a selector or service, render."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import abilities as ab
from accounts.actors import Actor
from config.api.conditional import IF_MATCH_PARAMETER, etag_of, expected_version
from config.api.errors import InvalidParam
from config.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, IdempotentPostMixin
from config.api.params import (
    CONTROL_PARAMS,
    body_params,
    refuse_body_params_in_query,
    refuse_unknown_params,
)
from config.api.permissions import Access
from orders import selectors, services
from orders.api.pagination import Keyset
from orders.api.serializers import (
    CustomerErrorSerializer,
    CustomerOrderDetailSerializer,
    CustomerOrderListResponseSerializer,
    CustomerOrderResponseSerializer,
    CustomerOrderSerializer,
    OrderCreateInputSerializer,
    OrderDeletedSerializer,
    OrderDetailSerializer,
    OrderListSerializer,
    OrderObjectSerializer,
    OrderPatchInputSerializer,
    OrderPatchResultSerializer,
)
from orders.filters import OrderFilter
from orders.models import Order

ORDER_KEYSET = Keyset(
    Order,
    fields=("id", "date_added", "date_modified", "order_date", "order_total"),
    default="-id",
)
PER_PAGE_DEFAULT = 50
PER_PAGE_MAX = 500
LIST_CONTROL_PARAMS = frozenset({"ordering", "cursor", "per_page"})


def _list_param_names() -> frozenset[str]:
    names = set()
    for name, declared in OrderFilter.base_filters.items():
        if declared.__class__.__name__.endswith("RangeFilter"):
            names |= {f"{name}_after", f"{name}_before"}
        else:
            names.add(name)
    return frozenset(names) | LIST_CONTROL_PARAMS | CONTROL_PARAMS


LIST_PARAM_NAMES = _list_param_names()
# a write's fields go in its body: sent in the query string they are refused by name
CREATE_FIELDS = frozenset(OrderCreateInputSerializer().fields)
PATCH_FIELDS = frozenset(OrderPatchInputSerializer().fields)


def _per_page(value: str | None) -> int:
    if value in (None, ""):
        return PER_PAGE_DEFAULT
    text = str(value)
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= PER_PAGE_MAX:
        raise InvalidParam("per_page", f"per_page must be a whole number from 1 to {PER_PAGE_MAX}.")
    return int(value)


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _etag(order) -> dict[str, str]:
    return {"ETag": etag_of("order", order.pk, order.version)}


class OrderViewSet(IdempotentPostMixin, viewsets.GenericViewSet):
    """/api/orders and /api/orders/{order_id} (orders-rest-api.md).

    Reads answer an ETag (`"order-<id>-v<version>"`); PATCH and DELETE honour If-Match.
    POST honours Idempotency-Key.
    """

    required_access = {
        "list": Access(ab.ORDERS_READ, "orders.view_order"),
        "retrieve": Access(ab.ORDERS_READ, "orders.view_order"),
        "create": Access(ab.ORDERS_WRITE, "orders.add_order"),
        "partial_update": Access(ab.ORDERS_WRITE, "orders.change_order"),
        "destroy": Access(ab.ORDERS_WRITE, "orders.delete_order"),
    }
    # declared for the OpenAPI schema; the selector applies the same FilterSet
    filter_backends = [DjangoFilterBackend]
    filterset_class = OrderFilter
    queryset = Order.objects.none()
    serializer_class = OrderObjectSerializer

    @extend_schema(
        operation_id="orders_list",
        description=(
            "Orders, newest first, with filters, search, ordering and cursor pagination. "
            "Unknown query parameters are refused (invalid-param naming them)."
        ),
        parameters=[
            OpenApiParameter("ordering", str, enum=ORDER_KEYSET.choices, required=False),
            OpenApiParameter("cursor", str, required=False, description="From links.next/prev."),
            OpenApiParameter("per_page", int, required=False, description="1–500, default 50."),
        ],
        responses={200: OrderListSerializer},
    )
    def list(self, request):
        params = request.query_params
        refuse_unknown_params(params, LIST_PARAM_NAMES)
        per_page = _per_page(params.get("per_page"))
        ordering = params.get("ordering") or ORDER_KEYSET.default
        page = ORDER_KEYSET.paginate(
            selectors.order_list_rows(params=params, user=request.user),
            ordering=ordering,
            cursor=params.get("cursor"),
            per_page=per_page,
        )

        def link(cursor: str | None) -> str | None:
            if cursor is None:
                return None
            query = params.copy()
            query["cursor"] = cursor
            return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

        return Response(
            {
                "data": OrderObjectSerializer().represent_many(
                    selectors.order_rows_read(page.items)
                ),
                "links": {"next": link(page.next_cursor), "prev": link(page.prev_cursor)},
                "meta": {
                    "per_page": per_page,
                    "ordering": ordering,
                    "count": len(page.items),
                    "next_cursor": page.next_cursor,
                    "prev_cursor": page.prev_cursor,
                },
            }
        )

    @extend_schema(
        operation_id="orders_create",
        description="Create an order; it starts in stage `received`. Unknown fields are refused.",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=OrderCreateInputSerializer,
        responses={201: OrderObjectSerializer},
    )
    def create(self, request):
        refuse_body_params_in_query(request, body_only=CREATE_FIELDS, accepted=CONTROL_PARAMS)
        params = OrderCreateInputSerializer(data=body_params(request))
        params.is_valid(raise_exception=True)
        draft = params.draft(
            ip_address=_client_ip(request), user_agent=request.headers.get("User-Agent", "")
        )
        if draft.customer is not None and not selectors.user_sees_every_order(request.user):
            if draft.customer.pk not in selectors.customer_client_ids(user=request.user):
                # another client's id reads as one that does not exist
                raise InvalidParam(
                    "customer_id", f'Invalid pk "{draft.customer.pk}" - object does not exist.'
                )
        order = services.order_create(draft=draft, actor=Actor.for_request(request))
        order = selectors.order_get(order_id=order.pk)
        return Response(
            OrderObjectSerializer(order).data, status=status.HTTP_201_CREATED, headers=_etag(order)
        )

    @extend_schema(
        operation_id="orders_retrieve",
        description="One order; `order_date` and `order_time` instead of `order_date_time`.",
        responses={200: OrderDetailSerializer},
    )
    def retrieve(self, request, order_id: str):
        refuse_unknown_params(request.query_params, CONTROL_PARAMS)
        order = selectors.order_object_get(order_id=order_id, user=request.user)
        return Response(OrderDetailSerializer(order).data, headers=_etag(order))

    @extend_schema(
        operation_id="orders_partial_update",
        description=(
            "Change the documented fields; `status_id` moves the stage under the stage rules. "
            "A deleted order refuses changes (invalid-param naming order_id)."
        ),
        parameters=[IF_MATCH_PARAMETER],
        request=OrderPatchInputSerializer,
        responses={200: OrderPatchResultSerializer},
    )
    def partial_update(self, request, order_id: str):
        refuse_body_params_in_query(request, body_only=PATCH_FIELDS, accepted=CONTROL_PARAMS)
        params = OrderPatchInputSerializer(data=body_params(request))
        params.is_valid(raise_exception=True)
        # a soft-deleted order is found here so that the service can say why it refuses
        order = selectors.order_get(order_id=order_id, include_deleted=True, user=request.user)
        services.order_update(
            order=order,
            actor=Actor.for_request(request),
            changes=params.changes(),
            expected_version=expected_version(request, kind="order", pk=order.pk),
        )
        order = selectors.order_get(order_id=order.pk)
        return Response(OrderPatchResultSerializer(order).data, headers=_etag(order))

    @extend_schema(
        operation_id="orders_destroy",
        description="Delete the order permanently, with its lines, totals, shipments and stages.",
        parameters=[IF_MATCH_PARAMETER],
        responses={200: OrderDeletedSerializer},
    )
    def destroy(self, request, order_id: str):
        refuse_unknown_params(request.query_params, CONTROL_PARAMS)
        order = selectors.order_get(order_id=order_id, include_deleted=True, user=request.user)
        deleted_id = services.order_hard_delete(
            order=order,
            actor=Actor.for_request(request),
            expected_version=expected_version(request, kind="order", pk=order.pk),
        )
        return Response({"id": deleted_id, "object": "order", "deleted": True})


# --------------------------------------------------------------------------- customer API

NO_ORDER_FOUND = "No order found"
CUSTOMER_ACCESS = Access(ab.ORDERS_READ, "orders.view_own_orders")


def _customer_error(message: str, http_status: int) -> Response:
    return Response({"status": "error", "messages": [message]}, status=http_status)


class CustomerOrdersBase(APIView):
    """The customer document has its own bodies: `{"status":"ok", ...}` and
    `{"status":"error","messages":[...]}`. Authentication and permission failures still
    answer in the platform envelope."""

    own_error_bodies = True
    required_access = {"get": CUSTOMER_ACCESS}

    def client_ids(self, request) -> list[int]:
        return selectors.customer_client_ids(user=request.user)

    def render_one(self, request, order: Order | None) -> Response:
        if order is None:
            return _customer_error(NO_ORDER_FOUND, status.HTTP_404_NOT_FOUND)
        context = {
            "request": request,
            "customer": selectors.CustomerContext.for_orders([order]),
        }
        return Response(
            {"status": "ok", "order": CustomerOrderDetailSerializer(order, context=context).data}
        )


class CustomerOrderListView(CustomerOrdersBase):
    @extend_schema(
        operation_id="customer_orders_list",
        parameters=[OpenApiParameter("order", str, enum=["ASC", "DESC"], required=False)],
        responses={200: CustomerOrderListResponseSerializer, 400: CustomerErrorSerializer},
    )
    def get(self, request):
        # the document shows `order` as a JSON body of the GET; the query string works too
        body_order = request.data.get("order") if hasattr(request.data, "get") else None
        direction = str(request.query_params.get("order") or body_order or "ASC").upper()
        if direction not in ("ASC", "DESC"):
            return _customer_error("order must be ASC or DESC", status.HTTP_400_BAD_REQUEST)
        orders = selectors.customer_orders(
            client_ids=self.client_ids(request), descending=direction == "DESC"
        )
        context = {"request": request, "customer": selectors.CustomerContext.for_orders(orders)}
        return Response(
            {
                "status": "ok",
                "orders": CustomerOrderSerializer(context=context).represent_many(orders),
            }
        )


class CustomerOrderLatestView(CustomerOrdersBase):
    @extend_schema(
        operation_id="customer_orders_latest",
        responses={200: CustomerOrderResponseSerializer, 404: CustomerErrorSerializer},
    )
    def get(self, request):
        order = selectors.customer_order_latest(client_ids=self.client_ids(request))
        return self.render_one(request, order)


class CustomerOrderDetailView(CustomerOrdersBase):
    @extend_schema(
        operation_id="customer_orders_retrieve",
        responses={200: CustomerOrderResponseSerializer, 404: CustomerErrorSerializer},
    )
    def get(self, request, order_id: str):
        order = selectors.customer_order_get(client_ids=self.client_ids(request), order_id=order_id)
        return self.render_one(request, order)
