"""Group orders V3 API (specs/group-order-update-api-v3.txt): list and upload, read and
update one group order, download its files. Thin: parse, call a selector or service, render."""

from pathlib import PurePath

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.views import APIView

from accounts import abilities as ab
from accounts.actors import Actor
from accounts.models import Client
from accounts.selectors import session_payload
from config.api.conditional import IF_MATCH_PARAMETER, etag_of, expected_version
from config.api.envelope import ErrorEnvelopeSerializer, envelope_response
from config.api.errors import EmailFailed, InvalidParam, MissingParam, NotFound
from config.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, IdempotentPostMixin
from config.api.params import (
    CONTROL_PARAMS,
    body_params,
    refuse_body_params_in_query,
    refuse_unknown_params,
    request_param,
)
from config.api.permissions import Access, HasRoleAndAbility, session_view_param
from group_orders import selectors
from group_orders.api.serializers import (
    VIEW_NAMES,
    GroupOrderEnvelopeSerializer,
    GroupOrderListEnvelopeSerializer,
    GroupOrderPatchInputSerializer,
    GroupOrderSerializer,
    GroupOrderUploadInputSerializer,
    view_param,
)
from group_orders.filters import GroupOrderFilter
from group_orders.models import GroupOrder
from group_orders.services.group_orders import group_order_submit, group_order_update
from group_orders.services.notifications import group_order_completed_notify

READ = Access(ab.GROUP_ORDERS_READ, "group_orders.view_grouporder")
VIEW_PARAM = OpenApiParameter("view", str, enum=list(VIEW_NAMES), required=False)
SESSION_VIEW_PARAM = OpenApiParameter(
    "session_view", str, enum=["default", "minimal", "full"], required=False
)
APPLICATION_PARAM = OpenApiParameter(
    "application",
    str,
    enum=["planoauth", "planoorder", "planox2"],
    required=False,
    description="The application whose role applies to this request.",
)
PER_PAGE_DEFAULT = 25
PER_PAGE_MAX = 100
PAGE_MAX = 1_000_000
LIST_PARAMS = frozenset(GroupOrderFilter.base_filters) | {"page", "per_page"} | CONTROL_PARAMS
# what the upload, GET and PATCH take besides their fields (docs/group_orders.md)
STEERING_PARAMS = frozenset({"token", "application", "view", "session_view"})
# one group order's GET and PATCH: those, and the path's `_id` again
DETAIL_PARAMS = STEERING_PARAMS | {"_id"}
UPLOAD_FIELDS = frozenset(GroupOrderUploadInputSerializer().fields)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _session(request) -> dict | None:
    return session_payload(request.auth, view=session_view_param(request))


def _same_id(request, public_id: str) -> None:
    """`_id` may be sent again (query string or body) only as the path's."""
    sent = request_param(request, "_id")
    if sent is not None and sent != public_id:
        raise InvalidParam("_id", "The _id sent is not the one in the path.")


def _render(request, group_order: GroupOrder, view: str) -> dict:
    return GroupOrderSerializer(group_order, view=view, context={"request": request}).data


def _whole_number(request, name: str, default: int, maximum: int | None = None) -> int:
    value = request.query_params.get(name)
    if value in (None, ""):
        return default
    digits = value.isascii() and value.isdigit()  # "¹".isdigit() is true; int("¹") raises
    if not digits or int(value) < 1 or (maximum and int(value) > maximum):
        limit = f" from 1 to {maximum}" if maximum else " of 1 or more"
        raise InvalidParam(name, f"{name} must be a whole number{limit}.")
    return int(value)


class GroupOrderListView(IdempotentPostMixin, APIView):
    """GET /api/v3/group_orders (list) and POST /api/v3/group_orders (upload a file)."""

    accepts_token_param = True
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    required_access = {
        "get": READ,
        "post": Access(ab.GROUP_ORDERS_WRITE, "group_orders.add_grouporder"),
    }

    @extend_schema(
        operation_id="group_orders_list",
        summary="List the group orders you can see (newest first)",
        parameters=[
            OpenApiParameter("page", int, required=False, description="1-1000000, default 1."),
            OpenApiParameter("per_page", int, required=False, description="1-100, default 25."),
            OpenApiParameter("status", str, enum=["processing", "complete", "failed"]),
            OpenApiParameter("client", int, required=False),
            OpenApiParameter("uploader", int, required=False),
            OpenApiParameter("file_format", str, enum=["csv", "xlsx"], required=False),
            OpenApiParameter("created_after", OpenApiTypes.DATETIME, required=False),
            OpenApiParameter("created_before", OpenApiTypes.DATETIME, required=False),
            OpenApiParameter("has_rejections", bool, required=False),
            OpenApiParameter("search", str, required=False, description="In the file name."),
            VIEW_PARAM,
            SESSION_VIEW_PARAM,
            APPLICATION_PARAM,
        ],
        responses={200: GroupOrderListEnvelopeSerializer},
    )
    def get(self, request):
        params = request.query_params
        refuse_unknown_params(params, LIST_PARAMS)
        view = view_param(params.get("view"))
        # bounded: the offset of a page beyond it would overflow the database's bigint
        page = _whole_number(request, "page", 1, PAGE_MAX)
        per_page = _whole_number(request, "per_page", PER_PAGE_DEFAULT, PER_PAGE_MAX)
        filters = {k: v for k, v in params.items() if k in GroupOrderFilter.base_filters}
        queryset = selectors.group_order_list(user=request.user, filters=filters)
        if view == "planoworker_processing_view":
            queryset = queryset.select_related("job")
        count = queryset.count()
        items = list(queryset[(page - 1) * per_page : page * per_page])

        def link(number: int) -> str:
            query = params.copy()
            query["page"] = str(number)
            return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

        data = {
            "results": [_render(request, item, view) for item in items],
            "count": count,
            "page": page,
            "per_page": per_page,
            "next": link(page + 1) if page * per_page < count else None,
            "previous": link(page - 1) if page > 1 and count else None,
        }
        return envelope_response(
            data, message=f"{count} group order(s).", session=_session(request)
        )

    @extend_schema(
        operation_id="group_orders_upload",
        summary="Upload a CSV or XLSX file of orders; the import runs in the background",
        request={"multipart/form-data": GroupOrderUploadInputSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER, VIEW_PARAM, SESSION_VIEW_PARAM, APPLICATION_PARAM],
        responses={
            201: GroupOrderEnvelopeSerializer,
            503: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="storage-unavailable: the file storage refused the file (full or "
                "read-only); nothing was created",
            ),
        },
    )
    def post(self, request):
        refuse_body_params_in_query(
            request, body_only=UPLOAD_FIELDS - STEERING_PARAMS, accepted=STEERING_PARAMS
        )
        raw = body_params(request, required=False)
        upload = raw.get("file")
        if upload is None or upload == "":
            raise MissingParam("file", "Send the order file as multipart/form-data field 'file'.")
        if not hasattr(upload, "read"):
            raise InvalidParam("file", "Send the file itself, as multipart/form-data.")
        params = GroupOrderUploadInputSerializer(data=raw)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        # checked before anything is created: a bad view or session_view creates nothing
        view = view_param(request_param(request, "view"), default="inital_upload")
        session_view_param(request)
        client = None
        if data.get("client_id") is not None:
            client = Client.objects.filter(pk=data["client_id"]).first()
            if client is None:
                raise InvalidParam("client_id", f"No client with id {data['client_id']}.")
        group_order = group_order_submit(
            file=upload,
            filename=PurePath(upload.name or "").name,
            actor=Actor.for_request(request),
            client=client,
        )
        group_order = selectors.group_order_get(public_id=str(group_order.public_id))
        return envelope_response(
            _render(request, group_order, view),
            message="The file was accepted; its orders are being imported.",
            session=_session(request),
            http_status=status.HTTP_201_CREATED,
            headers={
                "ETag": etag_of("group_order", group_order.public_id.hex, group_order.version)
            },
        )


class GroupOrderDetailView(APIView):
    """GET/PATCH /api/v3/group_orders/{_id}."""

    accepts_token_param = True
    required_access = {
        "get": READ,
        "patch": Access(ab.GROUP_ORDERS_WRITE, "group_orders.change_grouporder"),
    }

    @extend_schema(
        operation_id="group_orders_retrieve",
        summary="One group order, in the field set of `view`",
        parameters=[VIEW_PARAM, SESSION_VIEW_PARAM, APPLICATION_PARAM],
        responses={200: GroupOrderEnvelopeSerializer},
    )
    def get(self, request, public_id: str):
        refuse_unknown_params(request.query_params, DETAIL_PARAMS)
        refuse_unknown_params(body_params(request, required=False), DETAIL_PARAMS)
        _same_id(request, public_id)
        view = view_param(request_param(request, "view"))
        group_order = selectors.group_order_get(public_id=public_id, user=request.user)
        return envelope_response(
            _render(request, group_order, view),
            message="The group order.",
            session=_session(request),
            headers={
                "ETag": etag_of("group_order", group_order.public_id.hex, group_order.version)
            },
        )

    @extend_schema(
        operation_id="group_orders_update",
        summary="A processor updates status, counts, file URLs or queue_job_id",
        request=GroupOrderPatchInputSerializer,
        parameters=[IF_MATCH_PARAMETER, VIEW_PARAM, SESSION_VIEW_PARAM, APPLICATION_PARAM],
        responses={200: GroupOrderEnvelopeSerializer},
    )
    def patch(self, request, public_id: str):
        refuse_body_params_in_query(
            request,
            body_only=GroupOrderPatchInputSerializer.CHANGE_FIELDS,
            accepted=DETAIL_PARAMS,
        )
        params = GroupOrderPatchInputSerializer(data=body_params(request))
        params.is_valid(raise_exception=True)
        _same_id(request, public_id)
        # checked before the change: a bad view or session_view changes nothing
        view = view_param(request_param(request, "view"))
        session_view_param(request)
        group_order = selectors.group_order_get(public_id=public_id, user=request.user)
        updated = group_order_update(
            group_order=group_order,
            actor=Actor.for_request(request),
            changes=params.changes(),
            expected_version=expected_version(
                request, kind="group_order", pk=group_order.public_id.hex
            ),
        )
        if updated.completed and not group_order_completed_notify(
            group_order_id=updated.group_order.pk
        ):
            raise EmailFailed(
                "The group order was updated, but the e-mail to the uploader could not be "
                "sent. The team has been notified."
            )
        group_order = selectors.group_order_get(public_id=public_id)
        changed = ", ".join(updated.changed)
        return envelope_response(
            _render(request, group_order, view),
            message=f"Updated {changed}." if changed else "Nothing to change.",
            session=_session(request),
            headers={
                "ETag": etag_of("group_order", group_order.public_id.hex, group_order.version)
            },
        )


class SignedLinkOrRoleAndAbility(HasRoleAndAbility):
    """A valid signed link opens the file without a token; otherwise the usual checks."""

    def has_permission(self, request, view) -> bool:
        signature = request.query_params.get("signature")
        if not signature:  # `?signature=` is no link: the token decides (401 without one)
            return super().has_permission(request, view)
        if not selectors.signed_download_check(
            public_id=view.kwargs["public_id"], kind=view.kwargs["kind"], signature=signature
        ):
            raise InvalidParam("signature", "This download link is invalid or has expired.")
        request.signed_link = True
        return True


class GroupOrderFileView(APIView):
    """GET /api/v3/group_orders/{_id}/files/{kind}: the uploaded file or a report."""

    accepts_token_param = True
    permission_classes = [SignedLinkOrRoleAndAbility]
    required_access = {"get": READ}

    @extend_schema(
        operation_id="group_orders_file",
        summary="Download the uploaded file or a report (token, or a signed link)",
        parameters=[
            OpenApiParameter("signature", str, required=False, description="From a signed link."),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="A CSV file."),
            (200, XLSX_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="A workbook."),
        },
    )
    def get(self, request, public_id: str, kind: str):
        if kind not in selectors.FILE_KINDS:
            raise NotFound("kind", f"kind must be one of {', '.join(selectors.FILE_KINDS)}.")
        user = None if getattr(request, "signed_link", False) else request.user
        group_order = selectors.group_order_get(public_id=public_id, user=user)
        file_field = getattr(group_order, kind)
        if not file_field.name:
            raise NotFound(kind, "This file does not exist (yet).")
        try:
            handle = file_field.open("rb")
        except FileNotFoundError:
            raise NotFound(kind, "This file is no longer in the storage.") from None
        stem = PurePath(group_order.original_filename).stem or "orders"
        if kind == "file":
            filename = group_order.original_filename
        else:
            filename = f"{stem}-{kind.replace('_', '-')}".replace("-xlsx", ".xlsx").replace(
                "-csv", ".csv"
            )
        # the type follows the content (the upload's file_format), never the uploader's name
        xlsx = group_order.file_format == "xlsx" if kind == "file" else kind.endswith("_xlsx")
        content_type = XLSX_TYPE if xlsx else "text/csv"
        return FileResponse(
            handle, as_attachment=True, filename=filename, content_type=content_type
        )
