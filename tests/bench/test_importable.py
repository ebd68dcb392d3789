"""The benchmarks are not run in CI, but they must keep importing (a renamed service or a
moved module breaks them silently otherwise)."""

import importlib.util
from argparse import Namespace
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["api_bench", "admin_bench", "api_fixtures", "api_cpu"])
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


def test_the_api_report_refuses_a_comparison_when_a_side_answered_errors():
    report = _load("api_bench").report
    stats = {"rps": 100.0, "p50": 10.0, "p99": 50.0, "errors": 0}
    args = Namespace(connections=16, duration=20, warmup=3)
    django = {"stage": stats}
    seed = {"orders": 10, "stage_rows": 50, "reused": True}
    fixtures = {"queries": {"stage": 9}}

    failing = {**stats, "errors": 12}
    clean = report(seed, {"django": django, "floor": {"stage": stats}}, None, fixtures, args)
    broken = report(seed, {"django": django, "floor": {"stage": failing}}, None, fixtures, args)

    assert "Not comparable" not in clean and "| 100% |" in clean
    assert "**Not comparable**: non-2xx answers from floor stage." in broken
    assert "workers ×" in clean  # the gunicorn shape the run used


def test_the_api_report_gives_the_median_of_the_rounds_fractions():
    api_bench = _load("api_bench")
    runs = [
        {"rps": rps, "p50": p50, "p99": p99, "errors": 0}
        for rps, p50, p99 in ((100.0, 10.0, 40.0), (300.0, 5.0, 90.0), (200.0, 7.0, 60.0))
    ]
    combined = api_bench._combined(runs)
    assert (combined["rps"], combined["p50"], combined["p99"]) == (200.0, 7.0, 60.0)
    assert combined["rounds"] == [100.0, 300.0, 200.0]

    stats = {**combined, "fractions": [0.25, 0.5, 0.75], "fraction": 0.5}
    args = Namespace(connections=16, duration=10, warmup=3, rounds=3)
    seed = {"orders": 10, "stage_rows": 50, "reused": True}
    text = api_bench.report(
        seed,
        {"django": {"list": stats}, "floor": {"list": combined}},
        None,
        {"queries": {"list": 3}},
        args,
    )
    assert "| 50% |" in text  # the median fraction, not 200 / 200
    assert "list 25% · 50% · 75%" in text and "3 round(s)" in text
