"""`Idempotency-Key` support for a DRF view's POST: claim, run in one transaction, replay."""

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from accounts import idempotency
from config.api.params import body_params

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name=idempotency.HEADER,
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (a UUID is best), at most 255 characters. Retrying with the same key "
        "and the same request within 24 hours replays the first response (header "
        "`Idempotent-Replayed: true`) and changes nothing; the same key with a different request "
        "answers 422 `idempotency-key-reused`; a retry while the first request still runs answers "
        "409 `idempotency-key-in-progress`."
    ),
)


class IdempotentPostMixin:
    """Put first in a view's bases. POST handlers then run once per (caller, key).

    The handler and the recording of its response commit together: a request that dies half
    way leaves nothing behind but an in-progress key, which a retry takes over after a minute.
    """

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._idempotency_record = None
        raw = request.headers.get(idempotency.HEADER)
        if request.method != "POST" or raw is None:
            return
        key = idempotency.parse_key(raw)
        fingerprint = idempotency.request_fingerprint(
            method=request.method,
            path=request.get_full_path(),
            params=body_params(request, required=False),
        )
        record = idempotency.idempotency_claim(
            user=request.user,
            key=key,
            method=request.method,
            path=request.get_full_path(),
            fingerprint=fingerprint,
        )
        self._idempotency_record = record
        handler = getattr(self, request.method.lower())

        def run_once(*handler_args, **handler_kwargs):
            with transaction.atomic():
                response = handler(*handler_args, **handler_kwargs)
                if response.status_code < 500:
                    idempotency.idempotency_complete(
                        record=record, response_status=response.status_code, body=response.data
                    )
                return response

        setattr(self, request.method.lower(), run_once)

    def handle_exception(self, exc):
        if isinstance(exc, idempotency.Replay):
            return Response(
                exc.body, status=exc.response_status, headers={"Idempotent-Replayed": "true"}
            )
        response = super().handle_exception(exc)
        record = getattr(self, "_idempotency_record", None)
        if record is not None:
            # the handler failed and rolled back: remember a refusal, forget a crash
            idempotency.idempotency_complete(
                record=record, response_status=response.status_code, body=response.data
            )
        return response
