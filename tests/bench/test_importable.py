"""The benchmarks are not run in CI, but they must keep importing (a renamed service or a
moved module breaks them silently otherwise)."""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["api_bench", "admin_bench", "api_fixtures"])
def test_benchmark_modules_import(name):
    assert callable(_load(name).main)


def test_floor_app_imports_without_its_environment():
    pytest.importorskip("orjson")  # the bench extra
    floor = _load("floor_app")
    assert callable(floor.app)


def test_wrk_stage_script_moves_each_thread_through_its_own_orders():
    api_bench = _load("api_bench")
    fixtures = {"token": "t", "stage_orders": {"django": [11, 12, 13, 14]}}
    script = api_bench.lua_script("stage", fixtures, "django")
    assert "local ids = {11,12,13,14}" in script
    assert "thread:set('tid', counter)" in script and '"on-hold"' in script
