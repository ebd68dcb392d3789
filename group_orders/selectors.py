"""Reads for group orders and the job tracker: who may see which group order, lists, and
the download links of their files."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.db.models import Q, QuerySet
from django.urls import reverse

from accounts.models import User
from accounts.selectors import user_client_ids
from config.api.errors import InvalidParam, NotFound
from group_orders.models import GroupOrder, RejectedRow, WorkerHeartbeat
from orders.selectors import user_sees_every_order

REPORT_FIELDS = ("normalized_csv", "accepted_orders_xlsx", "rejected_orders_xlsx")
FILE_KINDS = ("file", *REPORT_FIELDS)
_SIGNING_SALT = "group_orders.download"
DEFAULT_LINK_MAX_AGE = 7 * 24 * 3600


def worker_last_seen() -> datetime | None:
    """When any job worker last checked in."""
    return (
        WorkerHeartbeat.objects.order_by("-last_seen_at")
        .values_list("last_seen_at", flat=True)
        .first()
    )


# --------------------------------------------------------------------------- visibility


def group_orders_visible_to(user: User) -> QuerySet[GroupOrder]:
    """The orders' rule (`user_sees_every_order`, `user_client_ids`): staff (admin staff,
    employees, superusers) see every group order; a liaison those of their clients; a client
    user those of their client; everyone their own uploads."""
    queryset = GroupOrder.objects.all()
    if user_sees_every_order(user):
        return queryset
    return queryset.filter(Q(uploader_id=user.pk) | Q(client_id__in=user_client_ids(user)))


def group_order_get(*, public_id: str, user: User | None = None) -> GroupOrder:
    """The group order with this `_id` that `user` may see (all when user is None);
    invalid-param naming `_id` (400) otherwise."""
    queryset = group_orders_visible_to(user) if user is not None else GroupOrder.objects.all()
    try:
        found = (
            queryset.select_related("uploader", "client", "application", "job")
            .filter(public_id=public_id)
            .first()
        )
    except Exception:  # not a UUID
        found = None
    if found is None:
        raise NotFound("_id", f"No group order with _id '{str(public_id)[:120]}' that you can see.")
    return found


def group_order_list(*, user: User, filters: dict[str, Any] | None = None) -> QuerySet:
    """The group orders `user` may see, newest first, filtered by the GroupOrderFilter."""
    from group_orders.filters import GroupOrderFilter

    queryset = group_orders_visible_to(user).select_related("uploader", "client", "application")
    filterset = GroupOrderFilter(filters or {}, queryset=queryset)
    if not filterset.is_valid():
        name, messages = next(iter(filterset.errors.items()))
        raise InvalidParam(name, " ".join(messages))
    return filterset.qs.order_by("-created_at", "-id")


def rejected_rows_of(group_order: GroupOrder) -> QuerySet[RejectedRow]:
    return RejectedRow.objects.filter(group_order=group_order).order_by("row_number")


# --------------------------------------------------------------------------- downloads


def signed_link_max_age() -> int:
    return int(getattr(settings, "ORDERDESK_GROUP_ORDER_LINK_MAX_AGE", DEFAULT_LINK_MAX_AGE))


def file_available(group_order: GroupOrder, kind: str) -> bool:
    return bool(getattr(group_order, kind).name)


def report_link(
    group_order: GroupOrder, kind: str, *, request=None, absolute: bool = False
) -> str | None:
    """Where to download a group order's file: the external URL a processor set, else a
    signed link to our copy (valid `signed_link_max_age()` seconds), else None.

    Only call it for a caller allowed to see the group order: the link lets anyone who
    holds it download the file until it expires.
    """
    if kind != "file":
        external = getattr(group_order, f"{kind}_url")
        if external:
            return external
    if not file_available(group_order, kind):
        return None
    token = signing.dumps({"g": str(group_order.public_id), "k": kind}, salt=_SIGNING_SALT)
    path = reverse("group-order-file", kwargs={"public_id": group_order.public_id, "kind": kind})
    url = f"{path}?signature={token}"
    if request is not None:
        return request.build_absolute_uri(url)
    if absolute:
        base = getattr(settings, "ORDERDESK_BASE_URL", "http://localhost:8000").rstrip("/")
        return f"{base}{url}"
    return url


def signed_download_check(*, public_id: str, kind: str, signature: str) -> bool:
    """Whether `signature` is a live link to this group order's file of this kind."""
    try:
        payload = signing.loads(signature, salt=_SIGNING_SALT, max_age=signed_link_max_age())
    except signing.BadSignature:  # includes SignatureExpired
        return False
    return payload == {"g": str(public_id), "k": kind}
