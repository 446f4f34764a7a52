"""The outbox after a long HubRise outage, bulk-loaded server-side (INSERT … SELECT over generate_series).

Shared by the backlog fault test and ``bench/outbox_backlog.py``. Orders are spread
evenly over the given establishments, whose HubRise connections must exist;
each order has three messages (its create and two status updates, ids ascending) and
one line, and is one of these kinds, by its number ``g``:

- history (3 in 4 orders): create delivered, first status superseded, last delivered;
- waiting create (the rest, 3 in 5): create pending, first status superseded, last
  pending behind the create;
- waiting status (1 in 5): create and first status delivered, last pending;
- failed create (1 in 5): create refused by HubRise (422), last status pending behind it.

Waiting messages are due since they were written (the oldest first), except that a
waiting status had a retry scheduled up to 6 minutes later. One in ten is believed
queued (a task for it sits in the broker for 10 more minutes), one in ten was queued
long ago and lost, the others were never queued. The messages of ``held_establishment``
(whose connection should be broken) are held instead of pending. Every time is at
least 3 minutes away from ``now``, so the test's clock and the code's agree on what
is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

HISTORY, WAITING_CREATE, WAITING_STATUS, FAILED_CREATE = "history", "waiting_create", "waiting_status", "failed_create"
MESSAGES_PER_ORDER = 3

# Kind of order number g (1-based), in SQL; kept next to its Python twin below.
KIND_SQL = """
CASE WHEN g % 4 <> 0 THEN 'history'
     WHEN (g / 4) % 5 < 3 THEN 'waiting_create'
     WHEN (g / 4) % 5 = 3 THEN 'waiting_status'
     ELSE 'failed_create' END
"""


def kind_of(g: int) -> str:
    if g % 4 != 0:
        return HISTORY
    return {0: WAITING_CREATE, 1: WAITING_CREATE, 2: WAITING_CREATE, 3: WAITING_STATUS}.get((g // 4) % 5, FAILED_CREATE)


ORDERS_SQL = """
INSERT INTO orders_order (
    uid, ref, status, tab, status_changed_at, created_at, due_at, first_opened_at, source,
    service_type, service_type_ref, table_name, expected_time, confirmed_time,
    customer_first_name, customer_last_name, customer_company_name, customer_email, customer_phone,
    customer_address_1, customer_address_2, customer_postal_code, customer_city, customer_country,
    customer_delivery_notes, customer_notes, seller_notes, collection_code, coupon_codes,
    currency, total, item_count, establishment_id
)
SELECT gen_random_uuid(), 'BL' || lpad(g::text, 7, '0'),
       CASE WHEN kind = 'history' THEN 'completed' ELSE 'in_preparation' END,
       CASE WHEN kind = 'history' THEN 'termine' ELSE 'en-preparation' END,
       created + interval '60 seconds', created, created, created, 'api',
       'eat_in', '', (g % 30)::text, NULL, NULL,
       (ARRAY['Camille','Léa','Manon','Louis','Hugo','Inès'])[1 + g % 6], (ARRAY['Martin','Dubois','Durand','Petit'])[1 + g % 4],
       '', '', '', '', '', '', '', '', '', '', '', '', '[]'::jsonb,
       'EUR', 19.00, 1, (%(establishments)s)[1 + (g / 4 * 7 + g % 4) % %(establishment_count)s]
FROM (
    SELECT g, %(kind)s AS kind, %(now)s::timestamptz - interval '10 minutes' - (%(orders)s - g) * interval '2 seconds' AS created
    FROM generate_series(1, %(orders)s) AS g
) numbered
ORDER BY g
"""

ITEMS_SQL = """
INSERT INTO orders_orderitem (order_id, position, product_name, sku_name, sku_ref, price, quantity, tax_rate,
                              customer_notes, subtotal, deal_key, deal_label, deal_pricing_effect, deal_pricing_value)
SELECT o.id, 0, 'Croque-monsieur', '', 'CROQ-M', 9.50, 2, 10.0, '', 19.00, '', '', '', ''
FROM orders_order o WHERE o.ref LIKE 'BL%'
"""

LINKS_SQL = """
INSERT INTO hubrise_sync_orderlink (order_id, location_id, hubrise_order_id, created_at)
SELECT o.id, c.location_id,
       CASE WHEN %(kind)s IN ('history', 'waiting_status') THEN 'bl' || g ELSE NULL END,
       o.created_at
FROM (SELECT o.*, substr(o.ref, 3)::int AS g FROM orders_order o WHERE o.ref LIKE 'BL%') o
JOIN hubrise_sync_connection c ON c.establishment_id = o.establishment_id
"""

# step 0 is the create, 1 the first status, 2 the last one.
MESSAGES_SQL = """
INSERT INTO hubrise_sync_outboxmessage (
    order_id, connection_id, kind, status, change_id, state, attempts, created_at, next_attempt_at, queued_until,
    lease_token, leased_until, create_may_have_landed, last_error, last_status_code, delivered_at, payload
)
SELECT o.id, c.id,
       CASE WHEN step = 0 THEN 'create' ELSE 'update_status' END,
       (ARRAY['new', 'accepted', o.status])[step + 1],
       NULL,
       CASE WHEN state = 'pending' AND o.establishment_id = %(held_establishment)s THEN 'held' ELSE state END,
       CASE WHEN state IN ('delivered', 'failed') THEN 1 ELSE 0 END,
       written,
       CASE WHEN state = 'pending' AND kind = 'waiting_status' THEN written + (g % 7) * interval '1 minute' ELSE written END,
       CASE WHEN state <> 'pending' OR o.establishment_id = %(held_establishment)s THEN NULL
            WHEN (g / 20) % 10 = 0 THEN %(now)s::timestamptz + interval '10 minutes'
            WHEN (g / 20) % 10 = 1 THEN %(now)s::timestamptz - interval '10 minutes'
            ELSE NULL END,
       NULL, NULL, false,
       CASE WHEN state = 'failed' THEN 'HubRise refused the order: items[0].price: invalid' ELSE '' END,
       CASE WHEN state = 'delivered' THEN 200 WHEN state = 'failed' THEN 422 END,
       CASE WHEN state = 'delivered' THEN written + interval '1 second' END,
       NULL
FROM (SELECT o.*, substr(o.ref, 3)::int AS g FROM orders_order o WHERE o.ref LIKE 'BL%') o
JOIN hubrise_sync_connection c ON c.establishment_id = o.establishment_id
CROSS JOIN LATERAL (SELECT %(kind)s AS kind) k
CROSS JOIN LATERAL generate_series(0, 2) AS step
CROSS JOIN LATERAL (SELECT o.created_at + step * interval '30 seconds' AS written) w
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN kind = 'history' THEN (ARRAY['delivered', 'superseded', 'delivered'])[step + 1]
        WHEN kind = 'waiting_create' THEN (ARRAY['pending', 'superseded', 'pending'])[step + 1]
        WHEN kind = 'waiting_status' THEN (ARRAY['delivered', 'delivered', 'pending'])[step + 1]
        ELSE (ARRAY['failed', 'superseded', 'pending'])[step + 1]
    END AS state
) s
ORDER BY g, step
"""


@dataclass(frozen=True)
class Loaded:
    orders: int
    messages: int
    unfinished: int


def fill(sql: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        sql = sql.replace(f"%({name})s", value)
    # Run without parameters, so that the driver leaves the "%" of the SQL alone.
    return sql


def load_backlog(orders: int, establishment_ids: list[int], held_establishment: int, now: datetime) -> Loaded:
    """Loads ``orders`` orders and 3 messages each, then recounts the tabs and ANALYZEs the tables."""
    from django.db import connection

    from orders.services import rebuild_status_counts

    values = {
        "orders": str(int(orders)),
        "establishments": "ARRAY[" + ",".join(str(int(pk)) for pk in establishment_ids) + "]::bigint[]",
        "establishment_count": str(len(establishment_ids)),
        "held_establishment": str(int(held_establishment)),
        # An aware datetime's ISO form, quoted: only our own values are filled in.
        "now": "'" + now.isoformat() + "'",
        "kind": KIND_SQL,
    }
    with connection.cursor() as cursor:
        cursor.execute(fill(ORDERS_SQL, values))
        cursor.execute(fill(ITEMS_SQL, values))
        cursor.execute(fill(LINKS_SQL, values))
        cursor.execute(fill(MESSAGES_SQL, values))
        cursor.execute(
            "UPDATE orders_establishment e SET last_order_number = "
            "(SELECT count(*) FROM orders_order o WHERE o.establishment_id = e.id)"
        )
        for table in ("orders_order", "orders_orderitem", "hubrise_sync_orderlink", "hubrise_sync_outboxmessage"):
            cursor.execute(f"ANALYZE {table}")
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE state IN ('pending', 'held', 'failed')) FROM hubrise_sync_outboxmessage"
        )
        messages, unfinished = cursor.fetchone()
    rebuild_status_counts()
    return Loaded(orders, messages, unfinished)
