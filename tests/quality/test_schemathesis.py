"""Gate 1: schemathesis over every operation of `/api/schema`, with valid tokens.

Zero 5xx, zero responses outside the documented status codes, headers and bodies. The CI size
is small (FUZZ_EXAMPLES, default 12 per operation, plus the coverage phase); `make fuzz` runs
the same test with more examples. See tests/quality/fuzzing.py.
"""

import pytest
from hypothesis import HealthCheck, settings

from tests.quality import fuzzing
from tests.quality.world import build_world

schema = fuzzing.load_schema()
WORLD: dict = {}
fuzzing.install_hooks(schema, WORLD)


@pytest.fixture
def world(db, request):
    # the group orders (two real imports, ~2 s) only for the group order operations
    needs_group_orders = "group_orders" in request.node.name or "[" not in request.node.name
    with fuzzing.InProcessRequests():
        WORLD["world"] = build_world(group_orders=needs_group_orders)
        yield WORLD["world"]
        WORLD.clear()


@schema.parametrize()
@settings(
    max_examples=fuzzing.EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_holds_its_schema(case, world):
    headers = fuzzing.with_token(case, fuzzing.caller_for(world, case))
    fuzzing.TALLY.add(case.operation.label)
    try:
        case.call_and_validate(headers=headers, checks=fuzzing.checks_for(case))
    except Exception as exc:
        exc.add_note(f"FUZZ_SEED={fuzzing.SEED} reproduces this run.")
        raise
