"""ETags from a row's version, and If-Match → the version a write expects.

The check itself belongs in the service, after it has locked the row: a view passes
`expected_version` and the service raises PreconditionFailed when the row moved on.
"""

import re

from drf_spectacular.utils import OpenApiParameter
from rest_framework import status

from config.api.errors import ApiError, InvalidParam

_ETAG = re.compile(r'^(W/)?"(?P<kind>[a-z_]+)-(?P<pk>[^"-]+)-v(?P<version>\d+)"$')


class PreconditionFailed(ApiError):
    slug = "precondition-failed"
    http_status = status.HTTP_412_PRECONDITION_FAILED
    default_message = (
        "The resource changed since you read it (If-Match does not match its ETag). "
        "GET it again, re-apply your change, and retry with the new ETag."
    )


IF_MATCH_PARAMETER = OpenApiParameter(
    name="If-Match",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "The ETag from your last GET. When given and the resource has changed since, the write "
        "is refused with 412 `precondition-failed` and nothing changes. Without it, the write "
        "proceeds as before (last write wins)."
    ),
)


def etag_of(kind: str, pk, version: int) -> str:
    return f'"{kind}-{pk}-v{version}"'


def expected_version(request, *, kind: str, pk) -> int | None:
    """The version an If-Match header expects for this object; None without the header.

    `*` matches any version (None). An ETag for another object, or an unreadable one, can never
    match: the write is refused (412) rather than applied blindly.
    """
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    versions = set()
    for candidate in (part.strip() for part in header.split(",")):
        match = _ETAG.match(candidate)
        if match is None:
            raise InvalidParam("If-Match", "If-Match must be an ETag returned by a GET.")
        if match["kind"] == kind and match["pk"] == str(pk) and not match.group(1):
            versions.add(int(match["version"]))
    if not versions:
        raise PreconditionFailed()
    if len(versions) > 1:
        raise InvalidParam("If-Match", "Send the single ETag of your last GET.")
    return versions.pop()


def check_version(*, expected: int | None, actual: int) -> None:
    """Call in a service, on the locked row."""
    if expected is not None and expected != actual:
        raise PreconditionFailed()
