"""Idempotency keys: the same request retried with the same key is answered, not redone.

Follows the IETF Idempotency-Key draft and Stripe's practice: a key is scoped to the calling
user and lives 24 hours; the same key with the same request replays the first response; with a
different request it is refused (422); while the first request still runs, a retry gets 409.
"""

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.utils.encoders import JSONEncoder

from accounts.models import IdempotencyKey, User
from config.api.errors import ApiError, InvalidParam

KEY_TTL = timedelta(hours=24)
# A key still "in progress" after this long belongs to a request that died; it may be retried.
IN_PROGRESS_LOCK = timedelta(seconds=60)
HEADER = "Idempotency-Key"


class IdempotencyKeyReused(ApiError):
    slug = "idempotency-key-reused"
    http_status = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_message = (
        "This Idempotency-Key was already used for a different request. "
        "Use a new key for a new request."
    )


class IdempotencyKeyInProgress(ApiError):
    slug = "idempotency-key-in-progress"
    http_status = status.HTTP_409_CONFLICT
    default_message = (
        "A request with this Idempotency-Key is still being processed. Retry in a moment."
    )


class Replay(Exception):
    """The stored first response for a key; the view returns it as it is."""

    def __init__(self, response_status: int, body: Any) -> None:
        self.response_status = response_status
        self.body = body
        super().__init__(f"replay {response_status}")


def parse_key(raw: str) -> str:
    """The key of an `Idempotency-Key` header (a bare or quoted string of 1–255 characters)."""
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
        raise InvalidParam(
            HEADER, "Idempotency-Key must be 1 to 255 printable ASCII characters (e.g. a UUID)."
        )
    return key


def request_fingerprint(*, method: str, path: str, params: dict[str, Any]) -> str:
    """A stable hash of what the request asks for (files by content, not by object)."""
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    plain = {}
    for name, value in sorted(params.items()):
        if name == "token":
            continue
        if hasattr(value, "chunks"):
            file_hash = hashlib.sha256()
            for chunk in value.chunks():
                file_hash.update(chunk)
            value.seek(0)
            plain[name] = {"file": getattr(value, "name", ""), "sha256": file_hash.hexdigest()}
        else:
            plain[name] = value
    digest.update(json.dumps(plain, sort_keys=True, cls=JSONEncoder).encode())
    return digest.hexdigest()


def idempotency_claim(
    *, user: User, key: str, method: str, path: str, fingerprint: str
) -> IdempotencyKey:
    """Claim the key for this request, or raise Replay / reused (422) / in progress (409)."""
    now = timezone.now()
    path = _storable(path)
    fresh = {
        "method": method,
        "path": path[:500],
        "fingerprint": fingerprint,
        "state": IdempotencyKey.State.IN_PROGRESS,
        "response_status": None,
        "response_body": None,
        "created_at": now,
        "locked_until": now + IN_PROGRESS_LOCK,
        "expires_at": now + KEY_TTL,
    }
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(user=user, key=key, **fresh)
    except IntegrityError:
        pass
    with transaction.atomic():
        existing = IdempotencyKey.objects.select_for_update().get(user=user, key=key)
        if existing.expires_at <= now:
            for name, value in fresh.items():
                setattr(existing, name, value)
            existing.save()
            return existing
        if (existing.fingerprint, existing.method, existing.path) != (
            fingerprint,
            method,
            path[:500],
        ):
            raise IdempotencyKeyReused()
        if existing.state == IdempotencyKey.State.COMPLETED:
            raise Replay(existing.response_status, existing.response_body)
        if existing.locked_until > now:
            raise IdempotencyKeyInProgress()
        existing.locked_until = now + IN_PROGRESS_LOCK  # the first attempt died: take over
        existing.save(update_fields=["locked_until"])
        return existing


def _storable(value: Any) -> Any:
    """PostgreSQL text and jsonb cannot hold NUL (U+0000), which a caller may send (and our
    error bodies quote back): stored as U+FFFD, the replacement character."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


def _json_safe(body: Any) -> Any:
    return _storable(json.loads(json.dumps(body, cls=JSONEncoder)))


def idempotency_complete(*, record: IdempotencyKey, response_status: int, body: Any) -> None:
    """Store the response to replay. A server error frees the key so a retry runs again."""
    if response_status >= 500:
        IdempotencyKey.objects.filter(pk=record.pk).delete()
        return
    IdempotencyKey.objects.filter(pk=record.pk).update(
        state=IdempotencyKey.State.COMPLETED,
        response_status=response_status,
        response_body=_json_safe(body),
    )


def idempotency_release(*, record: IdempotencyKey) -> None:
    IdempotencyKey.objects.filter(pk=record.pk, state=IdempotencyKey.State.IN_PROGRESS).delete()


def idempotency_keys_purge(*, now: datetime | None = None) -> int:
    """Delete expired keys; returns how many."""
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
