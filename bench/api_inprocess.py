"""The benchmarked API requests, one at a time, in this process (run by bench/api_cpu.py).

The platform is Django's WSGIHandler with production settings (what gunicorn calls, the
connection pool checkout included); the floor is bench/floor_app.py's `app`, called the same
way. Requests are built as api_bench.py's wrk scripts build them: the same tokens, list
query, detail orders and stage posts (an order alternates on-hold and in-production).

Usage (DATABASE_URL and BENCH_FLOOR_SQL set, see api_cpu.py):
    python bench/api_inprocess.py FIXTURES.json ENDPOINT SIDE COUNT
        run COUNT requests and exit (api_cpu.py runs this under callgrind twice)
    python bench/api_inprocess.py FIXTURES.json ENDPOINT SIDE COUNT --time
        also print the median wall time and the mean process CPU time per request (ms)
"""

import json
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

import django  # noqa: E402

django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from bench.floor_app import app as floor_app  # noqa: E402

WARMUP = 20


class Requests:
    def __init__(self, fixtures: dict, endpoint: str, side: str):
        self.fixtures, self.endpoint, self.side = fixtures, endpoint, side
        self.factory = RequestFactory()
        self.count = 0

    def environ(self) -> dict:
        fixtures, k = self.fixtures, self.count
        self.count += 1
        token = fixtures["customer_token"] if self.endpoint == "customer" else fixtures["token"]
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", "SERVER_NAME": "127.0.0.1"}
        if self.endpoint == "list":
            request = self.factory.get("/api/orders?" + fixtures["list_query"], **headers)
        elif self.endpoint == "detail":
            ids = fixtures["detail_ids"]
            request = self.factory.get(f"/api/orders/{ids[k % len(ids)]}", **headers)
        elif self.endpoint == "customer":
            request = self.factory.get("/orders", **headers)
        else:
            ids = fixtures["stage_orders"][self.side]
            lap, at = divmod(k, len(ids))
            body = json.dumps(
                {
                    "order_id": ids[at],
                    "stage": "on-hold" if lap % 2 == 0 else "in-production",
                    "update_status": True,
                }
            )
            request = self.factory.post(
                "/api/v1/order_stages", body, content_type="application/json", **headers
            )
        return request.environ


def call(app, requests: Requests) -> None:
    status = []
    body = b"".join(app(requests.environ(), lambda line, headers, *_: status.append(line)))
    if not status or not status[0].startswith("2"):
        raise SystemExit(f"{requests.side} {requests.endpoint}: {status} {body[:300]!r}")


def main() -> None:
    fixtures_path, endpoint, side, count = sys.argv[1:5]
    fixtures = json.loads(Path(fixtures_path).read_text(encoding="utf-8"))
    app = WSGIHandler() if side == "django" else floor_app
    requests = Requests(fixtures, endpoint, side)
    if "--time" not in sys.argv:
        for _ in range(int(count)):
            call(app, requests)
        return
    for _ in range(WARMUP):
        call(app, requests)
    walls = []
    cpu_started = time.process_time()
    for _ in range(int(count)):
        started = time.perf_counter()
        call(app, requests)
        walls.append(time.perf_counter() - started)
    cpu = (time.process_time() - cpu_started) / int(count)
    print(json.dumps({"wall_ms": statistics.median(walls) * 1000, "cpu_ms": cpu * 1000}))


if __name__ == "__main__":
    main()
