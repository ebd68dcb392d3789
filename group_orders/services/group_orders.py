"""Every write to a group order itself: submit an upload, a processor's update, re-run."""

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Client
from accounts.selectors import user_client_ids
from config.api.conditional import check_version
from config.api.errors import InvalidParam, PermissionDenied, StorageUnavailable
from group_orders.models import GroupOrder
from group_orders.services.imports import batch_size_setting
from group_orders.services.jobs import job_enqueue
from group_orders.services.uploads import CheckedFile, upload_check
from orders.selectors import user_sees_every_order

IMPORT_JOB = "group_orders.import"
logger = logging.getLogger(__name__)
COUNT_FIELDS = ("total_orders", "successful_orders", "rejected_orders")
URL_FIELDS = {
    "normalized_csv": "normalized_csv_url",
    "accepted_orders_xlsx": "accepted_orders_xlsx_url",
    "rejected_orders_xlsx": "rejected_orders_xlsx_url",
}
PROCESSOR_FIELDS = frozenset({"status", "queue_job_id", *COUNT_FIELDS, *URL_FIELDS})
# what the import sets while it runs, by the API's names (the changes use the model's)
IMPORT_OWNED = {"status": "status", **{name: name for name in COUNT_FIELDS}, **URL_FIELDS}
_API_NAME = {field: name for name, field in URL_FIELDS.items()}
_url = URLValidator(schemes=["http", "https"])


def _stamp(group_order: GroupOrder, actor: Actor, what: str) -> None:
    """Tell simple-history who acted, for the next save."""
    group_order._history_user = actor.user
    group_order._change_reason = f"{what} by {actor.display}"[:100]


def _check_client(actor: Actor, client: Client | None) -> Client | None:
    """The client the upload is for, by the orders' rule: staff (who see every order) may
    name any; a liaison one of theirs; a client user uploads for their own client (the
    default)."""
    user = actor.user
    if user_sees_every_order(user):
        return client
    own = Client.objects.filter(user_id=user.pk).first()
    if client is None:
        return own
    if client.pk not in user_client_ids(user):
        raise PermissionDenied("You may not upload orders for this client.")
    return client


def group_order_submit(
    *,
    file: BinaryIO,
    filename: str,
    actor: Actor,
    client: Client | None = None,
    checked: CheckedFile | None = None,
) -> GroupOrder:
    """Check an order file and queue its import; the new group order (`processing`).

    The file is checked first (type by content, size, encoding, header: invalid-param naming
    `file`), so a refused file creates nothing. The import job is enqueued when the
    transaction commits; `queue_job_id` is the job tracker's id of it.
    """
    client = _check_client(actor, client)
    checked = checked or upload_check(file=file)
    public_id = uuid.uuid4()
    group_order = GroupOrder(
        public_id=public_id,
        original_filename=(filename or f"upload.{checked.extension}")[:255],
        file_format=checked.format,
        file_size=checked.size,
        uploader=actor.user,
        application=actor.application,
        client=client,
        status=GroupOrder.Status.PROCESSING,
        encoding=checked.encoding,
        delimiter=checked.delimiter,
        columns=checked.header.columns,
        ignored_columns=checked.header.ignored,
        batch_size=batch_size_setting(),
    )
    file.seek(0)
    stored_name = f"{public_id}.{checked.extension}"
    try:
        group_order.file.save(stored_name, File(file), save=False)
    except OSError as exc:  # full, read-only, unreachable: say so, leave nothing behind
        logger.exception("group order upload: the storage refused %s", stored_name)
        partial = group_order.file.field.generate_filename(group_order, stored_name)
        try:
            if group_order.file.storage.exists(partial):
                group_order.file.storage.delete(partial)
        except OSError:
            pass
        raise StorageUnavailable() from exc
    try:
        with transaction.atomic():
            _stamp(group_order, actor, "Uploaded")
            group_order.save()
            job = job_enqueue(kind=IMPORT_JOB, actor=actor, subject=group_order)
            GroupOrder.objects.filter(pk=group_order.pk).update(job=job, queue_job_id=str(job.pk))
            group_order.job = job
            group_order.queue_job_id = str(job.pk)
    except BaseException:
        group_order.file.storage.delete(group_order.file.name)
        raise
    return group_order


@transaction.atomic
def group_order_rerun(*, group_order: GroupOrder, actor: Actor) -> bool:
    """Run the import of this group order again, from its checkpoints: an interrupted or
    failed import resumes; a complete one rebuilds its files (no order is created twice) and
    the uploader is e-mailed again. Whether it queued the import: not while its import job is
    queued, running or waiting to retry."""
    locked = GroupOrder.objects.select_for_update().get(pk=group_order.pk)
    if locked.import_running():
        return False
    job = job_enqueue(kind=IMPORT_JOB, actor=actor, subject=locked)
    locked.job = job
    locked.queue_job_id = str(job.pk)
    locked.status = GroupOrder.Status.PROCESSING
    locked.error = ""
    locked.finished_at = None
    locked.version += 1
    _stamp(locked, actor, "Re-run")
    locked.save(
        update_fields=[
            "job",
            "queue_job_id",
            "status",
            "error",
            "finished_at",
            "version",
            "updated_at",
            *locked.email_owed(),
        ]
    )
    return True


@dataclass
class GroupOrderUpdated:
    group_order: GroupOrder
    changed: list[str] = field(default_factory=list)
    completed: bool = False  # this update made it complete: e-mail the uploader


def _clean_changes(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - PROCESSOR_FIELDS)
    if unknown:
        raise InvalidParam(unknown[0], f"{unknown[0]} cannot be changed.")
    clean: dict[str, Any] = {}
    if "status" in changes:
        status = changes["status"]
        if status not in (GroupOrder.Status.PROCESSING, GroupOrder.Status.COMPLETE):
            raise InvalidParam("status", "status must be processing or complete.")
        clean["status"] = status
    for name in COUNT_FIELDS:
        if name in changes:
            value = changes[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidParam(name, f"{name} must be a whole number, 0 or more.")
            clean[name] = value
    for name, model_field in URL_FIELDS.items():
        if name in changes:
            value = changes[name] or ""
            if value:
                if not isinstance(value, str) or len(value) > 700:
                    raise InvalidParam(name, f"{name} must be a URL of at most 700 characters.")
                try:
                    _url(value)
                except ValidationError:
                    raise InvalidParam(name, f"{name} must be an http(s) URL.") from None
            clean[model_field] = value
    if "queue_job_id" in changes:
        value = changes["queue_job_id"] or ""
        if not isinstance(value, str) or len(value) > 64:
            raise InvalidParam(
                "queue_job_id", "queue_job_id must be text of at most 64 characters."
            )
        clean["queue_job_id"] = value
    return clean


def group_order_update(
    *,
    group_order: GroupOrder,
    actor: Actor,
    changes: dict[str, Any],
    expected_version: int | None = None,
) -> GroupOrderUpdated:
    """A processor's update: status, counts, file URLs, queue_job_id.

    Locks the row, checks If-Match's version, refuses counts where successful + rejected
    exceed total, saves only what changed (with a history row naming the actor) and bumps
    `version`. While the platform's own import of the file runs (or waits to retry), its
    status, counts and files are the import's: a change to them is refused (invalid-param
    naming the first), `queue_job_id` may still change. When it makes the group order
    complete (`completed`), the caller e-mails the uploader once this has committed
    (`group_order_completed_notify`), so that an API call can answer mandrill-email-failed
    when that fails; the update stands either way.
    """
    clean = _clean_changes(changes)
    result = GroupOrderUpdated(group_order=group_order)
    with transaction.atomic():
        locked = GroupOrder.objects.select_for_update().get(pk=group_order.pk)
        check_version(expected=expected_version, actual=locked.version)
        held = [name for name, field in IMPORT_OWNED.items() if field in clean]
        if held and locked.import_running():
            raise InvalidParam(
                held[0],
                "The import of this file is still running: it sets the status, the counts "
                "and the files when it ends.",
            )
        changed = [name for name, value in clean.items() if getattr(locked, name) != value]
        result.group_order = locked
        if not changed:
            return result
        was_complete = locked.status == GroupOrder.Status.COMPLETE
        for name in changed:
            setattr(locked, name, clean[name])
        if locked.successful_orders + locked.rejected_orders > locked.total_orders:
            raise InvalidParam(
                "total_orders",
                "successful_orders + rejected_orders must not exceed total_orders.",
            )
        fields = [*changed, "version", "updated_at"]
        if "status" in changed:
            if locked.status == GroupOrder.Status.COMPLETE:
                locked.finished_at = timezone.now()
                locked.progress = 100
                fields += ["finished_at", "progress", *locked.email_owed()]
            else:
                locked.finished_at = None
                fields.append("finished_at")
        locked.version += 1
        names = [_API_NAME.get(name, name) for name in changed]
        _stamp(locked, actor, "Updated " + ", ".join(names))
        locked.save(update_fields=fields)
        result.changed = names
        result.completed = locked.status == GroupOrder.Status.COMPLETE and not was_complete
    locked.refresh_from_db()
    result.group_order = locked
    return result
