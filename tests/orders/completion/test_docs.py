"""docs/completion.md shows the bodies the endpoint really answers."""

import json
import re

import pytest
from django.conf import settings

from orders.api.completion_views import NO_PARAMETERS, completion_error_body
from orders.services.completion import (
    ALREADY_REQUESTED,
    COMPLETED,
    DELETED,
    FLOW_CODE,
    INVALID,
    NOT_FOUND,
    ON_HOLD,
    Refusal,
)

DOC = (settings.BASE_DIR / "docs" / "completion.md").read_text()
BLOCKS = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", DOC, flags=re.S)]


def test_every_error_example_is_a_body_the_endpoint_answers():
    shown = [block for block in BLOCKS if block.get("error")]
    expected = [
        completion_error_body(refusal)
        for refusal in (
            NOT_FOUND,
            DELETED,
            INVALID,
            COMPLETED,
            ALREADY_REQUESTED,
            ON_HOLD,
            Refusal(FLOW_CODE, "Needs Backside Coat!"),
            Refusal(FLOW_CODE, "An order in 'Received' cannot move to 'Complete'."),
        )
    ]
    assert shown == expected


def test_the_success_and_parameter_examples_match():
    assert {"orderNumber": "100734", "message": "Successful"} in BLOCKS
    (refusal,) = [block for block in BLOCKS if block.get("status")]
    assert refusal == {
        "status": "invalid-param",
        "message": f"Invalid parameter: notify. {NO_PARAMETERS}",
        "errors": {"notify": [NO_PARAMETERS]},
    }


@pytest.mark.parametrize("code", ["01", "02", "03", "04", "05", "20"])
def test_every_code_is_documented(code):
    assert f"Error Code: {code}" in DOC
