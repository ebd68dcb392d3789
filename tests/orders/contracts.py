"""The documents' examples (copied verbatim into contract/) and a shape comparison."""

import json
from pathlib import Path

CONTRACT = Path(__file__).parent / "contract"


def contract(name: str):
    """An example body of a document, copied verbatim (`nil` written as null)."""
    return json.loads((CONTRACT / f"{name}.json").read_text())


def _kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    return type(value).__name__


def assert_same_shape(actual, expected, path: str = "$") -> None:
    """Same keys at every level and the same JSON type wherever the example has a value
    (an example's null says only that the value may be null). A list is compared item by
    item against the example's first item."""
    if expected is None:
        return
    assert actual is not None, f"{path}: null where the example has {expected!r}"
    assert _kind(actual) == _kind(expected), f"{path}: {actual!r} is not like {expected!r}"
    if isinstance(expected, dict):
        assert list(actual) == list(expected), f"{path}: keys {list(actual)} != {list(expected)}"
        for key in expected:
            assert_same_shape(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list) and expected:
        for index, item in enumerate(actual):
            assert_same_shape(item, expected[0], f"{path}[{index}]")
