"""API cost per request in instructions (make bench-api-cpu): the platform against the floor.

The load benchmark (api_bench.py) answers what 16 clients get, but on this shared 2-core
machine two runs of the same code differ by a third. This one answers a narrower question
the same way every time: how much work does this process do for one request? It runs
bench/api_inprocess.py under valgrind's callgrind (which counts the instructions executed,
whatever else the machine is doing) with W and W + N requests and divides the difference
by N, for each endpoint, for the platform and for the floor (the same SQL through psycopg,
orjson). PostgreSQL's own work is not in it: it is the same on both sides.

It also prints, from plain runs, the median wall time and the mean process CPU time per
request (noisy, for orientation).

Usage: python bench/api_cpu.py [--requests N] [--only list,detail,customer,stage]
       [--database-url URL]   (the database of api_bench.py, built the same way if missing)
"""

import argparse
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_bench import (  # noqa: E402
    ENDPOINTS,
    OUT,
    PY,
    ROOT,
    TITLES,
    add_database_arguments,
    ensure_database,
    ensure_tool,
    log,
    make_fixtures,
    write_report,
)
from callgrind import instructions_per_unit  # noqa: E402

WARMUP = 30
SIDES = ("django", "floor")


def _env(url: str, fixtures_path: Path) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "BENCH_FLOOR_SQL": str(fixtures_path),
        "PYTHONPATH": str(ROOT),
    }


def instructions(valgrind: str, env: dict, fixtures_path: Path, endpoint: str, side: str, n: int):
    """Instructions per request: callgrind totals of WARMUP and WARMUP + n requests."""
    script = str(ROOT / "bench" / "api_inprocess.py")
    return instructions_per_unit(
        valgrind,
        lambda count: [PY, script, str(fixtures_path), endpoint, side, str(count)],
        low=WARMUP,
        high=WARMUP + n,
        env=env,
        label=f"{side} {endpoint}",
        timeout=3600,
    )


def timing(env: dict, fixtures_path: Path, endpoint: str, side: str, n: int) -> dict:
    command = [PY, str(ROOT / "bench" / "api_inprocess.py"), str(fixtures_path)]
    command += [endpoint, side, str(n), "--time"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def report(results: dict, args) -> str:
    lines = [
        f"# API cost per request — {datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Instructions executed by the serving process per request (callgrind, {args.requests} "
        f"requests after {WARMUP}); the median wall time and mean process CPU time of "
        f"{args.requests * 3} plain requests after a warm-up. PostgreSQL's work is not counted.",
        "",
        "| endpoint | platform M instr. | floor M instr. | floor / platform "
        "| platform wall / cpu ms | floor wall / cpu ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for endpoint, sides in results.items():
        django, floor = sides["django"], sides["floor"]
        lines.append(
            f"| {TITLES[endpoint]} | {django['instructions'] / 1e6:.2f} "
            f"| {floor['instructions'] / 1e6:.2f} "
            f"| {floor['instructions'] / django['instructions']:.0%} "
            f"| {django['wall_ms']:.2f} / {django['cpu_ms']:.2f} "
            f"| {floor['wall_ms']:.2f} / {floor['cpu_ms']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--only", default=",".join(ENDPOINTS))
    add_database_arguments(parser)
    args = parser.parse_args()
    endpoints = [e for e in args.only.split(",") if e in ENDPOINTS]
    OUT.mkdir(parents=True, exist_ok=True)
    valgrind = ensure_tool("valgrind")
    ensure_database(args.database_url, args.orders)
    fixtures_path = OUT / "api-cpu-sql.json"
    make_fixtures(args.database_url, fixtures_path)
    env = _env(args.database_url, fixtures_path)
    results: dict = {}
    for endpoint in endpoints:
        results[endpoint] = {}
        for side in SIDES:
            measured = timing(env, fixtures_path, endpoint, side, args.requests * 3)
            measured["instructions"] = instructions(
                valgrind, env, fixtures_path, endpoint, side, args.requests
            )
            results[endpoint][side] = measured
            log(
                f"  {side:6} {endpoint:8} {measured['instructions'] / 1e6:7.2f} M instructions"
                f"  wall {measured['wall_ms']:.2f} ms  cpu {measured['cpu_ms']:.2f} ms"
            )
    write_report("api-cpu", report(results, args))


if __name__ == "__main__":
    main()
