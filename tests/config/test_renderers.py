"""The API's JSON renderer writes the bytes DRF's JSONRenderer writes."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils.functional import lazy
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from config.api.renderers import FastJSONRenderer

lazy_text = lazy(lambda: "Lazily translated", str)

DOCUMENTS = [
    {"status": "action-successful", "message": "ok", "data": None, "session": None},
    {"text": 'Zoë • 東京 — “quoted” \\ back\\slash "q" \n\t', "empty": "", "none": None},
    {"separators": "line\u2028paragraph\u2029end", "control": "\x00\x1f"},
    {"when": datetime(2026, 3, 8, 14, 5, 9, 123456, tzinfo=UTC), "day": date(2026, 3, 8)},
    {"naive": datetime(2026, 3, 8, 14, 5), "clock": time(9, 30, 1, 500), "span": timedelta(1)},  # noqa: DTZ001 (a naive one, on purpose)
    {"money": Decimal("123.4500"), "whole": Decimal("50"), "floats": [12.5, 0.1, 1.0, -3.25]},
    {"id": uuid.UUID("12345678-1234-5678-1234-567812345678"), "lazy": lazy_text()},
    {1: "int key", "nested": {"list": [1, 2, (3, 4)], "flag": True, "off": False}},
    ReturnDict({"a": ReturnList([{"b": 1}], serializer=None)}, serializer=None),
    [{"order_id": 9_223_372_036_854_775_807, "order_total": 0.0, "tags": []}],
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_bytes_are_drfs(document):
    assert FastJSONRenderer().render(document) == JSONRenderer().render(document)


def test_what_orjson_refuses_goes_to_drfs_renderer():
    document = {"huge": 2**70, "text": "ok"}
    assert (
        FastJSONRenderer().render(document)
        == JSONRenderer().render(document)
        == (b'{"huge":1180591620717411303424,"text":"ok"}')
    )


def test_an_indented_rendering_is_drfs():
    document = {"a": [1, {"b": Decimal("2.5")}]}
    media_type = "application/json; indent=4"
    written = FastJSONRenderer().render(document, media_type)
    assert written == JSONRenderer().render(document, media_type)
    assert b'\n    "a"' in written


def test_nothing_renders_as_no_body():
    assert FastJSONRenderer().render(None) == b""


def test_the_api_answers_with_it(client):
    response = client.get("/api/orders")  # no token: the platform's error envelope
    assert response.status_code == 401
    assert isinstance(response.accepted_renderer, FastJSONRenderer)
    assert response.json()["status"]
