"""What the API benchmark needs from the database, made with Django (run by api_bench.py):

- bearer tokens for the integrator and for a demo customer;
- order ids for the detail requests, and orders in `in-production` for the stage posts
  (two separate sets: one for the platform, one for the floor);
- the SQL Django runs for each benchmarked request (CaptureQueriesContext), as the floor
  app's statements: verbatim where they do not vary, with the order id as a parameter where
  they do, and `{ids}` where Django fills an IN list from an earlier result.

Usage: DATABASE_URL=... python bench/api_fixtures.py OUT.json
"""

import json
import os
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client as TestClient  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts import abilities as ab  # noqa: E402
from accounts.models import Application, Client, User  # noqa: E402
from accounts.services import token_issue  # noqa: E402
from orders.models import Order  # noqa: E402
from stages.models import OrderStatus, Stage  # noqa: E402

LIST_QUERY = "per_page=50&status=in-production"
STAGE_ORDERS = 4000  # half for the platform, half for the floor
DETAIL_ORDERS = 2000
CUSTOMER_EMAIL = "tucker.vega@example.com"


def _capture(call) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    return response.status_code, [q["sql"] for q in queries.captured_queries]


AUTH_MARKERS = ('"accounts_apitoken"', 'SELECT 1 AS "a" FROM "accounts_', '"auth_permission"')


def _split(statements: list[str]) -> tuple[list[str], list[str]]:
    """(the authentication statements that lead, the rest); the throttled last_used_at
    UPDATE is left out (it runs at most once a minute per token)."""
    statements = [s for s in statements if not s.startswith('UPDATE "accounts_apitoken"')]
    lead = 0
    while lead < len(statements) and any(m in statements[lead] for m in AUTH_MARKERS):
        lead += 1
    return statements[:lead], statements[lead:]


def _in_template(sql: str, column: str) -> str:
    pattern = re.escape(column) + r" IN \([^)]*\)"
    templated, count = re.subn(pattern, column + " IN ({ids})", sql)
    if count != 1:
        raise SystemExit(f"no IN list on {column} in: {sql[:200]}")
    return templated


def _param_template(sql: str, column: str, value: int) -> str:
    needle = f"{column} = {value}"
    if sql.count(needle) != 1:
        raise SystemExit(f"no {needle} in: {sql[:200]}")
    return sql.replace("%", "%%").replace(needle, f"{column} = %s")


def main(out: Path) -> None:
    integrator = User.objects.get(email="integrator@orderdesk.local")
    application = Application.objects.get(slug="planoorder")
    token = token_issue(
        user=integrator, application=application, token_abilities=ab.ALL_ABILITIES, name="bench"
    ).raw
    customer = Client.objects.get(email=CUSTOMER_EMAIL)
    customer_token = token_issue(
        user=customer.user, application=application, token_abilities=ab.ALL_ABILITIES
    ).raw
    rng = random.Random(9)
    # orders the posts move between in-production and on-hold (both ways allowed; staying
    # is no transition), so every run finds them again whatever stage a run left them in
    in_production = list(
        OrderStatus.objects.filter(
            stage__slug__in=["in-production", "on-hold"], order__isnull=False
        )
        .order_by("?")
        .values_list("order_id", flat=True)[: STAGE_ORDERS + 1]
    )
    if len(in_production) < 5:
        raise SystemExit("too few orders in in-production or on-hold for the stage posts")
    marker_stage_order, stage_orders = in_production[0], in_production[1:]
    top = Order.objects.order_by("-id").values_list("id", flat=True).first()
    detail_ids = [rng.randint(1, top) for _ in range(DETAIL_ORDERS)]
    detail_ids = list(Order.objects.filter(id__in=detail_ids).values_list("id", flat=True))

    web = TestClient(HTTP_HOST="127.0.0.1")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    sql: dict = {}

    code, statements = _capture(lambda: web.get(f"/api/orders?{LIST_QUERY}", **bearer))
    auth, rest = _split(statements)
    assert code == 200 and len(rest) == 2, (code, rest)
    sql["list"] = {
        "auth": auth,
        "orders": rest[0],
        "totals": _in_template(rest[1], '"orders_ordertotal"."order_id"'),
        "per_page": 50,
    }

    marker = detail_ids[0]
    code, statements = _capture(lambda: web.get(f"/api/orders/{marker}", **bearer))
    auth, rest = _split(statements)
    assert code == 200 and len(rest) == 2, (code, rest)
    sql["detail"] = {
        "auth": auth,
        "order": _param_template(rest[0], '"orders_order"."id"', marker),
        "totals": _in_template(rest[1], '"orders_ordertotal"."order_id"'),
    }

    customer_bearer = {"HTTP_AUTHORIZATION": f"Bearer {customer_token}"}
    code, statements = _capture(lambda: web.get("/orders", **customer_bearer))
    statements = [s for s in statements if 'UPDATE "accounts_apitoken"' not in s]
    data_at = next(i for i, s in enumerate(statements) if 'FROM "orders_order"' in s)
    assert code == 200 and len(statements) - data_at == 6, (code, statements)
    orders_sql, totals_sql, shipments_sql, items_sql, *context = statements[data_at:]
    sql["customer"] = {
        "auth": statements[:data_at],
        "orders": orders_sql,
        "totals": _in_template(totals_sql, '"orders_ordertotal"."order_id"'),
        "shipments": _in_template(shipments_sql, '"orders_shipment"."order_id"'),
        "items": _in_template(items_sql, '"orders_shipmentitem"."shipment_id"'),
        "context": context,
    }

    code, statements = _capture(
        lambda: web.post(
            "/api/v1/order_stages",
            {"order_id": marker_stage_order, "stage": "on-hold", "update_status": True},
            content_type="application/json",
            **bearer,
        )
    )
    auth, rest = _split(statements)
    assert code == 200, (code, statements)
    status_sql = next(s for s in rest if s.startswith('SELECT "order_statuses"."id"'))
    order_sql = next(s for s in rest if "FOR UPDATE" in s and '"orders_order"."number"' in s)
    visible_sql = next(s for s in rest if s.startswith('SELECT "orders_order"."id" AS "id" FROM'))
    previous_sql = next(s for s in rest if s.startswith('SELECT "order_stages"."id"'))
    on_hold = Stage.objects.get(slug="on-hold").pk
    # the status with the catalogue's verdict on the move (EXISTS on allowed_next) and its
    # stage; the latest history row at or before the moment, with its stage
    status_template = _param_template(status_sql, '"order_statuses"."order_id"', marker_stage_order)
    moving_to = f'"U0"."to_stage_id" = {on_hold})'
    if status_template.count(moving_to) != 1:
        raise SystemExit(f"no {moving_to} in: {status_sql[:300]}")
    previous_template, count = re.subn(
        r"(\"order_stages\".\"stage_at\" <= )'[^']*'::timestamptz",
        r"\1%s",
        _param_template(previous_sql, '"order_stages"."order_id"', marker_stage_order),
    )
    if count != 1:
        raise SystemExit(f"no stage_at bound in: {previous_sql[:300]}")
    label = f"planoorder ({token[:12]})"
    sql["stage"] = {
        "auth": auth,
        "stage": 'SELECT "stages_stage"."id", "stages_stage"."slug", "stages_stage"."name", '
        '"stages_stage"."position", "stages_stage"."is_terminal", "stages_stage"."colour", '
        '"stages_stage"."is_active" FROM "stages_stage" WHERE ("stages_stage"."is_active" AND '
        '"stages_stage"."slug" = %s) ORDER BY "stages_stage"."position" ASC, '
        '"stages_stage"."id" ASC LIMIT 1',
        "visible": _param_template(visible_sql, '"orders_order"."id"', marker_stage_order),
        "status": status_template.replace(moving_to, '"U0"."to_stage_id" = %s)'),
        "previous": previous_template,
        "insert": 'INSERT INTO "order_stages" ("order_id", "order_request_id", "stage_id", '
        '"previous_stage_id", "stage_trigger", "stage_at", "source_created_at", "notified_at", '
        '"recorded_at", "updated_status", "actor_kind", "actor_user_id", "actor_application_id", '
        '"actor_label", "created_by", "created_by_user_id", "updated_by", "updated_by_id", '
        '"notes", "event_slug", "payload") VALUES (%s, NULL, %s, %s, \'\', %s, NULL, NULL, %s, '
        f"true, 'application', {integrator.pk}, {application.pk}, '{label}', '{label}', NULL, "
        "'', NULL, '', '', '{}'::jsonb) RETURNING \"order_stages\".\"id\"",
        "order": _param_template(order_sql, '"orders_order"."id"', marker_stage_order),
        "update_status": 'UPDATE "order_statuses" SET "stage_id" = %s, "stage_trigger" = \'\', '
        '"stage_at" = %s, "status_updated_at" = %s, "event_slug" = \'\', "updated_at" = %s '
        'WHERE "order_statuses"."id" = %s',
        "bump": 'UPDATE "orders_order" SET "version" = ("orders_order"."version" + 1) '
        'WHERE "orders_order"."id" = %s',
        "django_statements": len(statements),
    }
    half = len(stage_orders) // 2
    out.write_text(
        json.dumps(
            {
                "token": token,
                "customer_token": customer_token,
                "list_query": LIST_QUERY,
                "detail_ids": detail_ids,
                "stage_orders": {"django": stage_orders[:half], "floor": stage_orders[half:]},
                "queries": {
                    name: sum(
                        len(v) if isinstance(v, list) else 1
                        for k, v in part.items()
                        if k not in ("per_page", "django_statements")
                    )
                    for name, part in sql.items()
                },
                "sql": sql,
            },
            indent=1,
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
