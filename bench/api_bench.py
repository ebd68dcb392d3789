"""API load benchmark (make bench-api): the platform under gunicorn against a floor.

1. Builds (or reuses) a PostgreSQL database with `seed_demo --orders N` (1,000,000 orders,
   ~5,000,000 stage rows; the seed's time and rows/s are reported when it runs).
2. Makes tokens and picks orders with bench/api_fixtures.py, which also captures the SQL
   Django runs for each request (the floor runs the same statements).
3. Starts gunicorn with production settings on a free loopback port (config/gunicorn.conf.py;
   SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL set here, SECURE_SSL_REDIRECT off) and the
   floor (bench/floor_app.py: psycopg pool + orjson) behind the same gunicorn settings.
4. Runs wrk (installed with apt-get when missing) with 16 connections for a fixed time
   against: the order list (50 per page, a status filter), order detail (random orders),
   the customer's order list, and stage creation (POST /api/v1/order_stages, orders moved
   between in-production and on-hold). Each endpoint is warmed up first. In rounds
   (--rounds, 3): each round measures every endpoint on the platform and on the floor back
   to back, so that both halves of a ratio see the machine in the same state (on this
   shared machine two runs minutes apart differ by a third); the report gives the medians.
5. Optionally (--stage-scaling) repeats stage creation on a small database (od_perf, a few
   thousand stage rows) to compare with the big one: does stage creation keep its pace as
   the history grows?
6. Prints and writes bench/out/api-<timestamp>.md: req/s, p50, p99, errors, fraction of floor.

Everything it starts it stops; every request goes to 127.0.0.1; every run is bounded.

Usage: python bench/api_bench.py [--orders N] [--duration S] [--rounds R] [--connections C]
       [--database-url URL] [--stage-scaling] [--only list,detail,customer,stage]
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PY = sys.executable
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/orderdesk_bench_api"
SMALL_URL = "postgres://postgres@127.0.0.1:5432/od_perf"
ENDPOINTS = ("list", "detail", "customer", "stage")
TITLES = {
    "list": "GET /api/orders?per_page=50&status=in-production",
    "detail": "GET /api/orders/{id}",
    "customer": "GET /orders (customer)",
    "stage": "POST /api/v1/order_stages",
}


def log(message: str) -> None:
    print(f"[{datetime.now(tz=UTC):%H:%M:%S}] {message}", flush=True)


# --------------------------------------------------------------------------- database


def _admin_url(url: str) -> tuple[str, str]:
    base, name = url.rsplit("/", 1)
    return f"{base}/postgres", name


def _psql_value(url: str, sql: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(sql).fetchone()
    return "" if row is None else str(row[0])


def ensure_database(url: str, orders: int) -> dict:
    """Create, migrate and seed the database unless demo order N is already there."""
    import psycopg

    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    seeded = _psql_value(url, f"SELECT 1 FROM orders_order WHERE external_id = 'demo-{orders}'")
    seed = {"reused": bool(seeded)}
    if not seeded:
        log(f"seeding {orders:,} demo orders into {name} (long for a million; log in bench/out)")
        OUT.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        result = subprocess.run(
            [PY, "manage.py", "seed_demo", "--orders", str(orders)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        seed["seconds"] = time.perf_counter() - started
        seed["output"] = result.stdout.strip().splitlines()[0]
        (OUT / f"seed-{name}.log").write_text(result.stdout + result.stderr, encoding="utf-8")
        log(seed["output"])
    subprocess.run(
        ["psql", url, "-qc", "VACUUM ANALYZE"], check=False, capture_output=True, text=True
    )
    seed["orders"] = int(_psql_value(url, "SELECT count(*) FROM orders_order"))
    seed["stage_rows"] = int(_psql_value(url, "SELECT count(*) FROM order_stages"))
    return seed


def make_fixtures(url: str, path: Path) -> dict:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    subprocess.run([PY, "bench/api_fixtures.py", str(path)], cwd=ROOT, env=env, check=True)
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn with the platform's config file, on 127.0.0.1, stopped on exit."""

    def __init__(self, app: str, url: str, extra_env: dict | None = None) -> None:
        self.port = free_port()
        self.log = OUT / f"gunicorn-{app.split(':')[0].replace('.', '-')}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": url,
            "SECURE_SSL_REDIRECT": "false",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_ACCESS_LOG": "/dev/null",
            "GUNICORN_MAX_REQUESTS": "0",
            "PYTHONPATH": str(ROOT),
            **(extra_env or {}),
        }
        command = [PY, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", app]
        self.handle = self.log.open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.handle, stderr=subprocess.STDOUT
        )
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, path: str = "/health", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {self.log}")
            try:
                with urllib.request.urlopen(self.base + path, timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"gunicorn did not answer in {timeout}s; see {self.log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.handle.close()


# --------------------------------------------------------------------------- load


def ensure_tool(name: str) -> str:
    """The path of a Debian-packaged program (wrk, valgrind), installed when missing."""
    found = shutil.which(name)
    if found:
        return found
    log(f"installing {name} (apt-get)")
    subprocess.run(["apt-get", "install", "-y", "-q", name], check=False, capture_output=True)
    if not shutil.which(name):
        subprocess.run(["apt-get", "update", "-q"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-q", name], check=True, capture_output=True)
    return shutil.which(name)


def lua_script(endpoint: str, fixtures: dict, side: str) -> str:
    token = fixtures["customer_token"] if endpoint == "customer" else fixtures["token"]
    head = f'wrk.headers["Authorization"] = "Bearer {token}"\n'
    if endpoint in ("list", "customer"):
        return head
    if endpoint == "detail":
        ids = ",".join(str(i) for i in fixtures["detail_ids"])
        return head + (
            f"local ids = {{{ids}}}\nlocal k = 0\n"
            "request = function()\n  k = k + 1\n"
            '  return wrk.format("GET", "/api/orders/" .. ids[(k % #ids) + 1])\nend\n'
        )
    orders = fixtures["stage_orders"][side]
    ids = ",".join(str(i) for i in orders)
    # each wrk thread walks its own half of the orders; an order alternates on-hold and
    # in-production (both moves allowed), one request per order per lap
    return head + (
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"local ids = {{{ids}}}\n"
        "local counter = 1\nlocal threads = {}\n"
        "function setup(thread)\n  thread:set('tid', counter)\n  counter = counter + 1\nend\n"
        "local k = 0\n"
        "request = function()\n"
        "  local per = math.floor(#ids / 2)\n"
        "  local base = ((tid or 1) - 1) * per\n"
        "  local lap = math.floor(k / per)\n"
        "  local id = ids[base + (k % per) + 1]\n"
        "  k = k + 1\n"
        '  local stage = (lap % 2 == 0) and "on-hold" or "in-production"\n'
        '  local body = \'{"order_id":\' .. id .. \',"stage":"\' .. stage .. '
        '\'","update_status":true}\'\n'
        '  return wrk.format("POST", "/api/v1/order_stages", nil, body)\nend\n'
    )


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def run_wrk(wrk: str, base: str, path: str, script: Path, seconds: int, connections: int) -> dict:
    command = [
        wrk,
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        base + path,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    text = result.stdout
    stats = {"raw": text}
    match = re.search(r"Requests/sec:\s+([\d.]+)", text)
    stats["rps"] = float(match.group(1)) if match else 0.0
    for pct in ("50", "99"):
        match = re.search(rf"^\s+{pct}%\s+(\S+)", text, re.M)
        stats[f"p{pct}"] = _ms(match.group(1)) if match else float("nan")
    match = re.search(r"(\d+) requests in", text)
    stats["requests"] = int(match.group(1)) if match else 0
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    stats["errors"] = int(match.group(1)) if match else 0
    match = re.search(r"Socket errors: (.*)", text)
    stats["socket_errors"] = match.group(1).strip() if match else ""
    return stats


def measure(wrk: str, server: Server, endpoint: str, fixtures: dict, side: str, args) -> dict:
    path = {
        "list": f"/api/orders?{fixtures['list_query']}",
        "detail": "/api/orders/1",
        "customer": "/orders",
        "stage": "/api/v1/order_stages",
    }[endpoint]
    script = OUT / f"wrk-{endpoint}-{side}.lua"
    script.write_text(lua_script(endpoint, fixtures, side), encoding="utf-8")
    run_wrk(wrk, server.base, path, script, args.warmup, args.connections)
    stats = run_wrk(wrk, server.base, path, script, args.duration, args.connections)
    log(
        f"  {side:6} {endpoint:8} {stats['rps']:8.1f} req/s  p50 {stats['p50']:7.1f} ms  "
        f"p99 {stats['p99']:7.1f} ms  non-2xx {stats['errors']}"
    )
    return stats


def _combined(runs: list[dict]) -> dict:
    """One endpoint on one side over the rounds: the medians, every error counted."""
    return {
        "rps": statistics.median(run["rps"] for run in runs),
        "p50": statistics.median(run["p50"] for run in runs),
        "p99": statistics.median(run["p99"] for run in runs),
        "errors": sum(run["errors"] for run in runs),
        "rounds": [run["rps"] for run in runs],
    }


def run_rounds(url: str, fixtures_path: Path, fixtures: dict, endpoints, wrk, args) -> dict:
    """The platform and the floor, both started; each round measures every endpoint on
    one side and then the other, back to back (the first side alternating), so that the
    two halves of a ratio see the machine in the same state. Per endpoint and side, the
    medians over the rounds; the platform's fraction of the floor is the median of the
    rounds' fractions."""
    servers = {
        "django": Server("config.wsgi", url),
        "floor": Server("bench.floor_app:app", url, {"BENCH_FLOOR_SQL": str(fixtures_path)}),
    }
    runs: dict = {side: {endpoint: [] for endpoint in endpoints} for side in servers}
    try:
        for server in servers.values():
            server.wait_ready()
        for number in range(args.rounds):
            log(f"round {number + 1} of {args.rounds}")
            order = ("django", "floor") if number % 2 == 0 else ("floor", "django")
            for endpoint in endpoints:
                for side in order:
                    stats = measure(wrk, servers[side], endpoint, fixtures, side, args)
                    runs[side][endpoint].append(stats)
    finally:
        for server in servers.values():
            server.stop()
    results = {
        side: {e: _combined(r) for e, r in by_endpoint.items()}
        for side, by_endpoint in runs.items()
    }
    for endpoint in endpoints:
        fractions = [
            django["rps"] / floor["rps"] if floor["rps"] else 0.0
            for django, floor in zip(runs["django"][endpoint], runs["floor"][endpoint], strict=True)
        ]
        results["django"][endpoint]["fractions"] = fractions
        results["django"][endpoint]["fraction"] = statistics.median(fractions)
    return results


# --------------------------------------------------------------------------- report


def _gunicorn_shape() -> str:
    """Worker class and count (and threads) as config/gunicorn.conf.py reads them here."""
    config: dict = {}
    exec((ROOT / "config" / "gunicorn.conf.py").read_text(encoding="utf-8"), config)
    if config["worker_class"] != "gthread":
        return f"{config['worker_class']}, {config['workers']} workers"
    return f"gthread, {config['workers']} workers × {config['threads']} threads"


def report(seed: dict, results: dict, scaling: dict | None, fixtures: dict, args) -> str:
    lines = [
        f"# API benchmark, {datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Database: {seed['orders']:,} orders, {seed['stage_rows']:,} stage rows"
        + (" (reused)" if seed.get("reused") else f"; seeded in {seed.get('seconds', 0):.0f}s"),
        f"Load: wrk, 2 threads, {args.connections} connections, {args.duration}s per endpoint "
        f"after {args.warmup}s warm-up; gunicorn config/gunicorn.conf.py ({_gunicorn_shape()}) "
        f"for both; {getattr(args, 'rounds', 1)} round(s), the platform and the floor back to "
        "back in each: medians over the rounds, the fraction the median of the rounds' "
        "fractions.",
        "",
        "| endpoint | side | req/s | p50 ms | p99 ms | non-2xx | fraction of floor |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    if seed.get("output"):
        lines.insert(3, f"Seed: {seed['output']}")
    for endpoint in results["django"]:
        django_stats, floor_stats = results["django"][endpoint], results["floor"].get(endpoint)
        fraction = django_stats.get("fraction")
        if fraction is None:
            fraction = (
                django_stats["rps"] / floor_stats["rps"]
                if floor_stats and floor_stats["rps"]
                else 0
            )
        for side, stats in (("django", django_stats), ("floor", floor_stats)):
            if stats is None:
                continue
            lines.append(
                f"| {TITLES[endpoint]} | {side} | {stats['rps']:.1f} | {stats['p50']:.1f} | "
                f"{stats['p99']:.1f} | {stats['errors']} | "
                + (f"{fraction:.0%}" if side == "django" else "")
                + " |"
            )
    rounds = [
        f"{endpoint} " + " · ".join(f"{fraction:.0%}" for fraction in stats["fractions"])
        for endpoint, stats in results["django"].items()
        if "fractions" in stats
    ]
    if rounds:
        lines += ["", "Fraction of the floor in each round: " + "; ".join(rounds) + "."]
    lines += ["", f"Queries per request (floor = Django's): {fixtures['queries']}"]
    failing = [
        f"{side} {endpoint}"
        for side, by_endpoint in results.items()
        for endpoint, stats in by_endpoint.items()
        if stats["errors"]
    ]
    if failing:
        lines += ["", f"**Not comparable**: non-2xx answers from {', '.join(failing)}."]
    if scaling:
        lines += [
            "",
            "## Stage creation as the history grows",
            "",
            "| stage rows | side | req/s | p50 ms | p99 ms | non-2xx |",
            "| ---: | --- | ---: | ---: | ---: | ---: |",
        ]
        for rows, sides in scaling.items():
            for side, stats in sides.items():
                lines.append(
                    f"| {rows:,} | {side} | {stats['rps']:.1f} | {stats['p50']:.1f} | "
                    f"{stats['p99']:.1f} | {stats['errors']} |"
                )
    return "\n".join(lines) + "\n"


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    """--orders and --database-url: the million-order database the API benchmarks share."""
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_API_DATABASE_URL", DEFAULT_URL)
    )


def write_report(prefix: str, text: str) -> None:
    """Print the report and keep it as bench/out/<prefix>-<timestamp>.md."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{prefix}-{datetime.now(tz=UTC):%Y%m%d-%H%M%S}.md"
    path.write_text(text, encoding="utf-8")
    print()
    print(text)
    print(f"(written to {path.relative_to(ROOT)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_database_arguments(parser)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--stage-scaling", action="store_true")
    parser.add_argument("--small-database-url", default=SMALL_URL)
    parser.add_argument("--small-orders", type=int, default=2300)
    parser.add_argument("--only", default=",".join(ENDPOINTS))
    args = parser.parse_args()
    endpoints = [e for e in args.only.split(",") if e in ENDPOINTS]
    OUT.mkdir(parents=True, exist_ok=True)
    wrk = ensure_tool("wrk")

    seed = ensure_database(args.database_url, args.orders)
    fixtures_path = OUT / "api-floor-sql.json"
    fixtures = make_fixtures(args.database_url, fixtures_path)
    log(
        f"{seed['orders']:,} orders, {seed['stage_rows']:,} stage rows; "
        f"queries per request {fixtures['queries']}"
    )
    results = run_rounds(args.database_url, fixtures_path, fixtures, endpoints, wrk, args)

    scaling = None
    if args.stage_scaling:
        small = ensure_database(args.small_database_url, args.small_orders)
        small_path = OUT / "api-floor-sql-small.json"
        small_fixtures = make_fixtures(args.small_database_url, small_path)
        scaling = {
            seed["stage_rows"]: {s: results[s]["stage"] for s in results if "stage" in results[s]}
        }
        scaling[small["stage_rows"]] = run_rounds(
            args.small_database_url, small_path, small_fixtures, ["stage"], wrk, args
        )
        scaling[small["stage_rows"]] = {
            side: by_endpoint["stage"] for side, by_endpoint in scaling[small["stage_rows"]].items()
        }
        scaling = dict(sorted(scaling.items()))

    write_report("api", report(seed, results, scaling, fixtures, args))


if __name__ == "__main__":
    main()
