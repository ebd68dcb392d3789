"""The floor of the API benchmark: a minimal WSGI app without Django.

It answers the benchmarked endpoints by running the SQL that Django runs for them (captured
by `bench/api_bench.py` into a JSON file named by BENCH_FLOOR_SQL: the authentication
queries and the data queries, with the order id as a parameter where it varies) on a
psycopg connection pool, and writes the same response shapes with orjson. No URL routing
framework, no serializers, no middleware: what is left is the database and the JSON.

Run behind the same gunicorn settings as the platform:
    BENCH_FLOOR_SQL=bench/out/api-floor-sql.json DATABASE_URL=... \
        gunicorn -c config/gunicorn.conf.py bench.floor_app:app
"""

import atexit
import json
import os
import threading
from datetime import UTC, date, datetime, time
from decimal import Decimal
from urllib.parse import parse_qs

import orjson
from psycopg_pool import ConnectionPool

LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S"
UTC_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

_LOCK = threading.Lock()
_RUNTIME: dict = {}


def _runtime() -> tuple[dict, ConnectionPool]:
    """The captured SQL and the connection pool, made on the first request (so that the
    module imports without its environment)."""
    if not _RUNTIME:
        with _LOCK:
            if not _RUNTIME:
                with open(os.environ["BENCH_FLOOR_SQL"], encoding="utf-8") as fixtures:
                    sql = json.load(fixtures)["sql"]
                pool = ConnectionPool(
                    os.environ["DATABASE_URL"],
                    min_size=int(os.environ.get("DB_POOL_MIN_SIZE", 2)),
                    max_size=int(os.environ.get("DB_POOL_MAX_SIZE", 10)),
                    open=True,
                )
                atexit.register(pool.close)
                _RUNTIME.update(sql=sql, pool=pool)
    return _RUNTIME["sql"], _RUNTIME["pool"]


def _utc(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime(UTC_FORMAT) if value else None


def _local(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime(LOCAL_FORMAT) if value else None


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _in_list(ids) -> str:
    return ", ".join(str(int(i)) for i in ids) or "NULL"


def _authenticate(cursor, token_sql: list[str]) -> None:
    for statement in token_sql:
        cursor.execute(statement)
        cursor.fetchall()


def _order_object(row: dict, totals: list[dict], *, detail: bool = False) -> dict:
    order_date, order_time = row["order_date"], row["order_time"]
    body = {
        "order_id": row["id"],
        "customer_id": row["customer_id"],
        "location_id": row["location_id"],
        "address_id": row["address_id"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "email": row["email"],
        "telephone": row["telephone"],
        "notify": row["notify"],
        "order_type": row["order_type"],
    }
    if detail:
        body["order_time"] = order_time.strftime("%H:%M:%S") if order_time else None
        body["order_date"] = (
            datetime.combine(order_date, time.min).strftime(LOCAL_FORMAT) if order_date else None
        )
    else:
        body["order_date_time"] = (
            datetime.combine(order_date, order_time or time.min).strftime(LOCAL_FORMAT)
            if order_date
            else None
        )
    body.update(
        {
            "processed": row["processed"],
            "total_items": row["total_items"],
            "order_total": _number(row["order_total"]),
            "comment": row["comment"],
            "payment": row["payment"],
            "invoice_prefix": row["invoice_prefix"],
            "invoice_date": _utc(row["invoice_date"]),
            # the list reads values() rows (status_stage_id), the detail a joined status row
            "status_id": row["status_stage_id"] if "status_stage_id" in row else row["stage_id"],
            "status_updated_at": _utc(row["status_updated_at"]),
            "assignee_id": row["assignee_id"],
            "assignee_group_id": row["assignee_group_id"],
            "assignee_updated_at": _utc(row["assignee_updated_at"]),
            "ip_address": None if row["ip_address"] is None else str(row["ip_address"]),
            "hash": row["hash"],
            "user_agent": row["user_agent"],
            "date_added": _local(row["date_added"]),
            "date_modified": _local(row["date_modified"]),
            "order_totals": [
                {
                    "code": t["code"],
                    "title": t["title"],
                    "value": float(t["value"]),
                    "priority": t["priority"],
                }
                for t in totals
            ],
        }
    )
    return body


def _rows(cursor) -> list[dict]:
    names = [column.name for column in cursor.description]
    seen: dict[str, int] = {}
    keys = []
    for name in names:  # joined tables repeat `id`: keep the first (the order's)
        keys.append(name if name not in seen else f"{name}_{seen[name]}")
        seen[name] = seen.get(name, 0) + 1
    return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]


def _totals_by_order(cursor, template: str, ids: list[int]) -> dict[int, list[dict]]:
    by_order: dict[int, list[dict]] = {i: [] for i in ids}
    if ids:
        cursor.execute(template.replace("{ids}", _in_list(ids)))
        for total in _rows(cursor):
            by_order[total["order_id"]].append(total)
    return by_order


def order_list(environ) -> tuple[int, dict]:
    queries, pool = _runtime()
    sql = queries["list"]
    with pool.connection() as conn, conn.cursor() as cursor:
        _authenticate(cursor, sql["auth"])
        cursor.execute(sql["orders"])
        rows = _rows(cursor)
        per_page = sql["per_page"]
        page, more = rows[:per_page], len(rows) > per_page
        totals = _totals_by_order(cursor, sql["totals"], [r["id"] for r in page])
    host = environ.get("HTTP_HOST", "127.0.0.1")
    data = [_order_object(r, totals[r["id"]]) for r in page]
    cursor_text = f"{page[-1]['id']}" if more and page else None
    return 200, {
        "data": data,
        "links": {
            "next": f"http://{host}/api/orders?cursor={cursor_text}" if cursor_text else None,
            "prev": None,
        },
        "meta": {
            "per_page": per_page,
            "ordering": "-id",
            "count": len(data),
            "next_cursor": cursor_text,
            "prev_cursor": None,
        },
    }


def order_detail(order_id: int) -> tuple[int, dict]:
    queries, pool = _runtime()
    sql = queries["detail"]
    with pool.connection() as conn, conn.cursor() as cursor:
        _authenticate(cursor, sql["auth"])
        cursor.execute(sql["order"], [order_id])
        rows = _rows(cursor)
        if not rows:
            return 404, {"status": "invalid-param", "message": "Order does not exist."}
        totals = _totals_by_order(cursor, sql["totals"], [order_id])
    return 200, _order_object(rows[0], totals[order_id], detail=True)


def customer_list() -> tuple[int, dict]:
    queries, pool = _runtime()
    sql = queries["customer"]
    with pool.connection() as conn, conn.cursor() as cursor:
        _authenticate(cursor, sql["auth"])
        cursor.execute(sql["orders"])
        orders = _rows(cursor)
        ids = [o["id"] for o in orders]
        totals = _totals_by_order(cursor, sql["totals"], ids)
        shipments: dict[int, list[dict]] = {i: [] for i in ids}
        items: dict[int, list[dict]] = {}
        if ids:
            cursor.execute(sql["shipments"].replace("{ids}", _in_list(ids)))
            for shipment in _rows(cursor):
                shipments[shipment["order_id"]].append(shipment)
                items[shipment["id"]] = []
        if items:
            cursor.execute(sql["items"].replace("{ids}", _in_list(items)))
            for item in _rows(cursor):
                items[item["shipment_id"]].append(item)
        for statement in sql["context"]:
            cursor.execute(statement)
            cursor.fetchall()
    body = []
    for order in orders:
        values = {t["code"]: t["value"] for t in totals[order["id"]]}
        entry = {
            "id": order["id"],
            "customer_id": order["customer_id"],
            "plan": {"id": order["plan_id"]},
            "totals": {code: _ruby(values.get(code)) for code in TOTAL_CODES} if values else None,
            "created_at": _long_date(order["date_added"]),
            "paid_at": _long_date(order["paid_at"]),
            "refunded_at": _long_date(order["refunded_at"]),
        }
        if shipments[order["id"]]:
            entry["shipments"] = [
                {
                    "status": f"Shipped on {_long_date(s['ship_date'])}",
                    "ship_date": s["ship_date"].isoformat() if s["ship_date"] else None,
                    "tracking_url": s["tracking_url"] or None,
                    "items": len(items[s["id"]]),
                }
                for s in shipments[order["id"]]
            ]
        body.append(entry)
    return 200, {"status": "ok", "orders": body}


TOTAL_CODES = ("shipping", "discount", "subtotal", "total")


def _ruby(value: Decimal | None) -> str | None:
    if value is None:
        return None
    normal = value.normalize()
    if normal == normal.to_integral_value():
        return f"{int(normal)}.0"
    return format(normal, "f")


def _long_date(value: datetime | date | None) -> str | None:
    return f"{value:%B} {value.day}, {value.year}" if value else None


def stage_create(payload: dict) -> tuple[int, dict]:
    """stage_record's statements, in its order, as plain SQL."""
    queries, pool = _runtime()
    sql = queries["stage"]
    order_id, slug = int(payload["order_id"]), payload["stage"]
    now = datetime.now(tz=UTC)
    with pool.connection() as conn:
        with conn.cursor() as cursor:
            _authenticate(cursor, sql["auth"])
            cursor.execute(sql["stage"], [slug])
            stage = _rows(cursor)
            if not stage:
                return 400, {"status": "invalid-param", "message": f"Unknown stage '{slug}'."}
            stage = stage[0]
            cursor.execute(sql["visible"], [order_id])  # the caller may see the order
            if not cursor.fetchall():
                return 404, {"status": "invalid-param", "message": "No such order."}
            with conn.transaction():
                cursor.execute(sql["order"], [order_id])  # locks the order and reads it
                if not cursor.fetchall():
                    return 404, {"status": "invalid-param", "message": "No such order."}
                cursor.execute(sql["status"], [stage["id"], order_id])
                status = _rows(cursor)[0]  # with its stage and the verdict on the move
                if status["stage_id"] != stage["id"] and not status["may_move"]:
                    return 400, {"status": "invalid-param", "message": "Transition refused."}
                cursor.execute(sql["previous"], [order_id, now])
                previous = cursor.fetchone()
                cursor.execute(
                    sql["insert"],
                    [order_id, stage["id"], previous[1] if previous else None, now, now],
                )
                history_id = cursor.fetchone()[0]
                cursor.execute(sql["update_status"], [stage["id"], now, now, now, status["id"]])
                cursor.execute(sql["bump"], [order_id])
    return 200, {
        "status": "action-successful",
        "message": f"Stage '{stage['name']}' recorded; it is now the current stage.",
        "data": {
            "order_stage": {
                "id": history_id,
                "order_id": order_id,
                "stage": stage["slug"],
                "stage_name": stage["name"],
                "previous_stage": status["stage__slug"],  # its stage, joined (values_list names)
                "stage_at": _utc(now),
                "recorded_at": _utc(now),
                "updated_status": True,
            },
            "order_status": {
                "id": status["id"],
                "order_id": order_id,
                "stage": stage["slug"],
                "stage_name": stage["name"],
                "stage_at": _utc(now),
                "status_updated_at": _utc(now),
                "client": {
                    "client_id": status["client_id"],
                    "client_billing_postal_code": status["client_billing_postal_code"],
                },
                "order": {
                    "external_id": status["external_id"],
                    "service_type": status["service_type"],
                    "due_date": status["due_date"].isoformat() if status["due_date"] else None,
                },
            },
            "status_updated": True,
        },
        "session": None,
    }


def app(environ, start_response):
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
    try:
        if method == "GET" and path == "/api/orders":
            status, body = order_list(environ)
        elif method == "GET" and path.startswith("/api/orders/"):
            status, body = order_detail(int(path.rsplit("/", 1)[1]))
        elif method == "GET" and path == "/orders":
            status, body = customer_list()
        elif method == "POST" and path == "/api/v1/order_stages":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            status, body = stage_create(orjson.loads(environ["wsgi.input"].read(length)))
        elif path == "/health":
            status, body = 200, {"status": "ok"}
        else:
            status, body = 404, {"status": "not-found"}
    except (ValueError, KeyError) as error:
        status, body = 400, {"status": "invalid-param", "message": str(error)}
    payload = orjson.dumps(body)
    start_response(
        f"{status} {'OK' if status == 200 else 'Error'}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
    )
    return [payload]


if __name__ == "__main__":  # a smoke check: python bench/floor_app.py /api/orders
    import sys

    print(parse_qs(""), app({"REQUEST_METHOD": "GET", "PATH_INFO": sys.argv[1]}, print))
