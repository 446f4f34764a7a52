"""The sandbox's state changes, one method each, shared by the API, the web page and the control API."""

from __future__ import annotations

import copy
import hmac
import json
import sqlite3
import time
from dataclasses import asdict, dataclass
from typing import Any

from . import orders as order_rules
from .catalogs import EMPTY_CATALOG, Catalogs, visible_catalogs
from .config import RateLimits, Settings
from .deliveries import Deliveries
from .errors import ApiError, ValidationFailed, not_found, unauthorized
from .events import ACKNOWLEDGED, UNACKNOWLEDGED, Dispatcher, record_event, validate_callback
from .formats import FormatError, local_time, new_id, new_token, parse_time
from .inventory import Inventory
from .limits import RateLimiter
from .locations import Locations
from .network import FaultBoard
from .other_apps import OtherApps
from .permissions import scope_covers
from .scheduler import Scheduler
from .store import Store, insert_catalog, insert_location, mask_token, unused_id

MAX_PAGE = 100


@dataclass
class Connection:
    id: str
    token: str
    client_id: str
    client_name: str
    location_id: str
    account_id: str
    currency: str
    timezone: str
    scope: str = ""
    catalog_id: str | None = None
    customer_list_id: str | None = None


class Sandbox:
    def __init__(self, settings: Settings) -> None:
        self.defaults = settings
        self.settings = copy.deepcopy(settings)
        self.store = Store(settings.db_path)
        self.store.seed(settings)
        self.limiter = RateLimiter(copy.deepcopy(settings.rate_limits), settings.rate_time_unit)
        self.faults = FaultBoard()
        self.dispatcher = Dispatcher(
            self.store,
            time_unit=lambda: self.settings.time_unit,
            timeout=lambda: self.settings.delivery_timeout,
        )
        # Where HubRise's pages for customers (delivery tracking) are served.
        self.public_url = f"http://{settings.host}:{settings.port}"
        self.catalogs = Catalogs(self)
        self.inventory = Inventory(self)
        self.location_settings = Locations(self)
        self.deliveries = Deliveries(self)
        self.other_apps = OtherApps(self)
        self.scheduler = Scheduler([self.inventory.expire_due, self.location_settings.resume_due, self.deliveries.advance_due])

    # Reference data ---------------------------------------------------------------------

    def location(self, location_id: str) -> dict | None:
        row = self.store.query_one(
            "SELECT l.*, a.name AS account_name, a.currency FROM locations l"
            " JOIN accounts a ON a.id = l.account_id WHERE l.id = ?",
            (location_id,),
        )
        if row is None:
            return None
        return {**dict(row), "details": json.loads(row["details"])}

    def locations(self) -> list[dict]:
        result = []
        for row in self.store.query("SELECT id FROM locations ORDER BY position"):
            location = self.location(row["id"])
            location["catalogs"] = [
                {"id": r["id"], "name": r["name"], "level": "account" if r["account_id"] else "location"}
                for r in visible_catalogs(self.store, row["id"])
            ]
            location["customer_lists"] = []
            for customer_list in self.store.query("SELECT id, name FROM customer_lists WHERE location_id = ?", (row["id"],)):
                customers = self.store.query("SELECT id, data FROM customers WHERE customer_list_id = ?", (customer_list["id"],))
                location["customer_lists"].append(
                    {**dict(customer_list), "customers": [{"id": c["id"], **json.loads(c["data"])} for c in customers]}
                )
            result.append(location)
        return result

    def add_location(self, name: str | None = None, timezone: str = "Europe/Paris") -> dict:
        """A new location of the seeded account, with its own catalog and (empty) customer list."""
        with self.store.transaction() as db:
            account = db.execute("SELECT id FROM accounts ORDER BY rowid LIMIT 1").fetchone()
            position = db.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM locations").fetchone()[0]
            name = name or f"Restaurant {position}"
            location_id = insert_location(db, account["id"], position, name, timezone, {})
            insert_catalog(db, f"Carte {name}", EMPTY_CATALOG, location_id=location_id)
            db.execute(
                "INSERT INTO customer_lists (id, location_id, name) VALUES (?, ?, ?)",
                (new_id(), location_id, f"Clients {name}"),
            )
        return next(location for location in self.locations() if location["id"] == location_id)

    def clients(self) -> list[dict]:
        return [dict(r) for r in self.store.query("SELECT id, name, secret, role FROM clients ORDER BY role")]

    def client(self, client_id: str) -> dict | None:
        row = self.store.query_one("SELECT * FROM clients WHERE id = ?", (client_id,))
        return dict(row) if row else None

    def client_by_role(self, role: str) -> dict:
        return dict(self.store.query_one("SELECT * FROM clients WHERE role = ?", (role,)))

    def check_client_credentials(self, client_id: str | None, secret: str | None) -> dict:
        client = self.client(client_id or "")
        if client is None or secret is None or not _constant_time_equal(client["secret"], secret):
            raise unauthorized("Invalid client credentials")
        return client

    # OAuth ------------------------------------------------------------------------------

    def create_auth_code(
        self, client_id: str, location_id: str, scope: str, device_id: str, catalog_id: str | None = None
    ) -> str:
        code = new_token()
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO auth_codes (code, client_id, location_id, scope, device_id, created_at, catalog_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (code, client_id, location_id, scope, device_id, time.time(), catalog_id),
            )
        return code

    def exchange_code(self, client: dict, code: str | None) -> dict:
        def bad_grant(message: str) -> ApiError:
            return ApiError(400, "invalid_grant", message)

        if not code:
            raise bad_grant("The code is missing")
        with self.store.transaction() as db:
            row = db.execute("SELECT * FROM auth_codes WHERE code = ?", (code,)).fetchone()
            if row is None or row["client_id"] != client["id"]:
                raise bad_grant("The code is invalid")
            if row["used_at"] is not None:
                raise bad_grant("The code has already been used")
            if time.time() - row["created_at"] > self.settings.auth_code_ttl:
                raise bad_grant("The code has expired")
            db.execute("UPDATE auth_codes SET used_at = ? WHERE code = ?", (time.time(), code))
        return self.connect(client["id"], row["location_id"], row["scope"], row["device_id"], row["catalog_id"])

    def connect(self, client_id: str, location_id: str, scope: str, device_id: str = "", catalog_id: str | None = None) -> dict:
        """Re-authorising the same client, location and device returns the same token.

        ``catalog_id`` is the catalog the user picks on the consent page (one of the location's
        or of its account's); by default the location's first one.
        """
        location = self.location(location_id)
        if location is None:
            raise not_found(f"Unknown location {location_id!r}")
        catalogs = visible_catalogs(self.store, location_id)
        catalog = next((c for c in catalogs if c["id"] == catalog_id), None) if catalog_id else (catalogs or [None])[0]
        if catalog_id and catalog is None:
            raise not_found(f"Catalog {catalog_id!r} is not a catalog of location {location_id!r} or of its account")
        customer_list = self.store.query_one("SELECT * FROM customer_lists WHERE location_id = ?", (location_id,))
        catalog_id = catalog["id"] if catalog is not None and scope_covers(scope, "catalog", "all_catalogs") else None
        customer_list_id = customer_list["id"] if scope_covers(scope, "customer_list", "all_customer_lists") else None
        with self.store.transaction() as db:
            existing = db.execute(
                "SELECT * FROM connections WHERE client_id = ? AND location_id = ? AND device_id = ? AND revoked_at IS NULL",
                (client_id, location_id, device_id),
            ).fetchone()
            if existing:
                connection_id, token = existing["id"], existing["token"]
                db.execute(
                    "UPDATE connections SET scope = ?, catalog_id = ?, customer_list_id = ? WHERE id = ?",
                    (scope, catalog_id, customer_list_id, connection_id),
                )
            else:
                connection_id, token = new_id(6), new_token()
                db.execute(
                    "INSERT INTO connections (id, token, client_id, location_id, device_id, scope, catalog_id,"
                    " customer_list_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (connection_id, token, client_id, location_id, device_id, scope, catalog_id, customer_list_id, time.time()),
                )
        answer = {
            "access_token": token,
            "token_type": "Bearer",
            "app_instance_id": connection_id,
            "account_id": location["account_id"],
            "location_id": location_id,
            "account_name": location["account_name"],
            "location_name": location["name"],
        }
        if catalog_id:
            answer.update(catalog_id=catalog_id, catalog_name=catalog["name"])
        if customer_list_id:
            answer.update(customer_list_id=customer_list_id, customer_list_name=customer_list["name"])
        return answer

    def revoke(self, client: dict, token: str | None) -> None:
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT id FROM connections WHERE token = ? AND client_id = ? AND revoked_at IS NULL",
                (token or "", client["id"]),
            ).fetchone()
            if row is None:
                raise not_found("Unknown token")
            db.execute("UPDATE connections SET revoked_at = ? WHERE id = ?", (time.time(), row["id"]))
            db.execute("DELETE FROM callbacks WHERE connection_id = ?", (row["id"],))
            db.execute("DELETE FROM events WHERE connection_id = ?", (row["id"],))

    def authenticate(self, token: str | None) -> Connection:
        if not token:
            raise unauthorized("The access token is missing")
        row = self.store.query_one(
            "SELECT cn.id, cn.token, cn.client_id, cl.name AS client_name, cn.location_id, l.account_id,"
            " a.currency, l.timezone, cn.scope, cn.catalog_id, cn.customer_list_id"
            " FROM connections cn JOIN clients cl ON cl.id = cn.client_id"
            " JOIN locations l ON l.id = cn.location_id JOIN accounts a ON a.id = l.account_id"
            " WHERE cn.token = ? AND cn.revoked_at IS NULL",
            (token,),
        )
        if row is None:
            raise unauthorized()
        return Connection(**dict(row))

    def location_view(self, location_id: str) -> dict:
        return self.location_settings.view(location_id)

    # Orders -----------------------------------------------------------------------------

    def _customer_lookup(self, account_id: str, client_id: str):
        def lookup(customer_id=None, customer_list_id=None, private_ref=None) -> dict | None:
            rows = self.store.query(
                "SELECT c.* FROM customers c JOIN customer_lists cl ON cl.id = c.customer_list_id"
                " JOIN locations l ON l.id = cl.location_id WHERE l.account_id = ?"
                " AND (c.id = ? OR c.customer_list_id = ?)",
                (account_id, customer_id or "", customer_list_id or ""),
            )
            for row in rows:
                refs = json.loads(row["private_refs"])
                if row["id"] == customer_id or (private_ref is not None and refs.get(client_id) == private_ref):
                    return {"id": row["id"], "customer_list_id": row["customer_list_id"], **json.loads(row["data"])}
            return None

        return lookup

    def create_order(self, connection: Connection, payload: Any) -> dict:
        body, private_ref = order_rules.validate_create(
            payload,
            connection.currency,
            connection.client_id,
            self._customer_lookup(connection.account_id, connection.client_id),
        )
        created_at = float(int(time.time()))
        with self.store.transaction() as db:
            order_id = unused_id(db, "orders")
            db.execute(
                "INSERT INTO orders (id, location_id, created_at, created_by_client_id, status, customer_id, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    order_id,
                    connection.location_id,
                    created_at,
                    connection.client_id,
                    body["status"],
                    body["customer_id"],
                    json.dumps(body),
                ),
            )
            if private_ref is not None:
                self._claim_private_ref(db, connection.location_id, connection.client_id, private_ref, order_id)
            self.emit_order_event(db, order_id, "create", connection.client_id, None)
        self.dispatcher.wake()
        return self._view(order_id, connection.client_id)

    def _claim_private_ref(self, db, location_id: str, client_id: str, private_ref: str, order_id: str) -> None:
        try:
            db.execute(
                "INSERT INTO order_private_refs (location_id, client_id, private_ref, order_id) VALUES (?, ?, ?, ?)",
                (location_id, client_id, private_ref, order_id),
            )
        except sqlite3.IntegrityError:
            raise ValidationFailed([{"field": "private_ref", "message": f"{private_ref!r} has already been taken"}]) from None

    def order_row(self, order_id: str, db=None) -> sqlite3.Row | None:
        sql = (
            "SELECT o.*, cl.name AS created_by, l.timezone, a.currency FROM orders o"
            " JOIN clients cl ON cl.id = o.created_by_client_id JOIN locations l ON l.id = o.location_id"
            " JOIN accounts a ON a.id = l.account_id WHERE o.id = ?"
        )
        if db is not None:
            return db.execute(sql, (order_id,)).fetchone()
        return self.store.query_one(sql, (order_id,))

    def _render(self, row: sqlite3.Row, client_id: str, private_ref: str | None, body: dict | None = None) -> dict:
        return order_rules.render_order(
            row["id"],
            body if body is not None else json.loads(row["body"]),
            location_id=row["location_id"],
            timezone=row["timezone"],
            currency=row["currency"],
            created_at=row["created_at"],
            created_by=row["created_by"],
            private_ref=private_ref,
            client_id=client_id,
        )

    def _private_ref(self, db_or_store, order_id: str, client_id: str) -> str | None:
        sql = "SELECT private_ref FROM order_private_refs WHERE order_id = ? AND client_id = ?"
        if isinstance(db_or_store, Store):
            row = db_or_store.query_one(sql, (order_id, client_id))
        else:
            row = db_or_store.execute(sql, (order_id, client_id)).fetchone()
        return row["private_ref"] if row else None

    def _view(self, order_id: str, client_id: str) -> dict:
        row = self.order_row(order_id)
        return self._render(row, client_id, self._private_ref(self.store, order_id, client_id))

    def get_order(self, connection: Connection, order_id: str) -> dict:
        row = self.order_row(order_id)
        if row is None or row["location_id"] != connection.location_id:
            raise not_found(f"Order {order_id!r} not found")
        return self._render(row, connection.client_id, self._private_ref(self.store, order_id, connection.client_id))

    def list_orders(self, connection: Connection, params: dict[str, str]) -> tuple[list[dict], str | None]:
        errors = order_rules.Errors()
        count = _page_size(errors, params.get("count"))
        conditions, values = ["o.location_id = ?"], [connection.location_id]
        if params.get("cursor"):
            try:
                conditions.append("o.seq < ?")
                values.append(int(params["cursor"], 36))
            except ValueError:
                errors.add("cursor", "is not a valid cursor")
        if params.get("status"):
            statuses = params["status"].split(",")
            conditions.append(f"o.status IN ({', '.join('?' * len(statuses))})")
            values.extend(statuses)
        if params.get("private_ref"):
            conditions.append("o.id IN (SELECT order_id FROM order_private_refs WHERE client_id = ? AND private_ref = ?)")
            values.extend([connection.client_id, params["private_ref"]])
        if params.get("created_by"):
            conditions.append("cl.name = ?")
            values.append(params["created_by"])
        if params.get("customer_id"):
            conditions.append("o.customer_id = ?")
            values.append(params["customer_id"])
        for key, operator in (("after", ">="), ("before", "<")):
            if params.get(key):
                try:
                    conditions.append(f"o.created_at {operator} ?")
                    values.append(parse_time(params[key]).timestamp())
                except FormatError as error:
                    errors.add(key, str(error))
        errors.raise_if_any()
        rows = self.store.query(
            "SELECT o.*, cl.name AS created_by, l.timezone, a.currency FROM orders o"  # noqa: S608 - placeholders only
            " JOIN clients cl ON cl.id = o.created_by_client_id JOIN locations l ON l.id = o.location_id"
            " JOIN accounts a ON a.id = l.account_id"
            f" WHERE {' AND '.join(conditions)} ORDER BY o.seq DESC LIMIT ?",
            [*values, count + 1],
        )
        next_cursor = _to_base36(rows[count - 1]["seq"]) if len(rows) > count else None
        rows = rows[:count]
        refs = self._private_refs_of(connection.client_id, [row["id"] for row in rows])
        return [self._render(row, connection.client_id, refs.get(row["id"])) for row in rows], next_cursor

    def _private_refs_of(self, client_id: str, order_ids: list[str]) -> dict[str, str]:
        if not order_ids:
            return {}
        rows = self.store.query(
            f"SELECT order_id, private_ref FROM order_private_refs WHERE client_id = ?"  # noqa: S608
            f" AND order_id IN ({', '.join('?' * len(order_ids))})",
            [client_id, *order_ids],
        )
        return {row["order_id"]: row["private_ref"] for row in rows}

    def patch_order(self, connection: Connection, order_id: str, payload: Any) -> dict:
        return self._patch_order(order_id, connection.client_id, payload, connection.location_id)

    def change_status_as(self, client_id: str, order_id: str, changes: dict) -> dict:
        """An order change made by another app (the POS), which is what fires callbacks to ours."""
        return self._patch_order(order_id, client_id, changes, None)

    def _patch_order(self, order_id: str, client_id: str, payload: Any, location_id: str | None) -> dict:
        with self.store.transaction() as db:
            row = self.order_row(order_id, db)
            if row is None or (location_id is not None and row["location_id"] != location_id):
                raise not_found(f"Order {order_id!r} not found")
            before = json.loads(row["body"])
            after, sets_private_ref, private_ref = order_rules.apply_patch(before, payload, row["currency"], client_id)
            if sets_private_ref:
                db.execute("DELETE FROM order_private_refs WHERE order_id = ? AND client_id = ?", (order_id, client_id))
                if private_ref:
                    self._claim_private_ref(db, row["location_id"], client_id, private_ref, order_id)
            db.execute("UPDATE orders SET body = ?, status = ? WHERE id = ?", (json.dumps(after), after["status"], order_id))
            self.emit_order_event(db, order_id, "update", client_id, (row, before))
        self.dispatcher.wake()
        return self._view(order_id, client_id)

    def emit_order_event(self, db, order_id: str, event_type: str, actor_client_id: str, previous) -> None:
        """Records the event for every other app subscribed on the location; never for the actor."""
        row = self.order_row(order_id, db)
        receivers = db.execute(
            "SELECT cn.id, cn.client_id, cb.events FROM connections cn JOIN callbacks cb ON cb.connection_id = cn.id"
            " WHERE cn.location_id = ? AND cn.client_id != ? AND cn.revoked_at IS NULL",
            (row["location_id"], actor_client_id),
        ).fetchall()
        for receiver in receivers:
            if event_type not in json.loads(receiver["events"]).get("order", []):
                continue
            private_ref = self._private_ref(db, order_id, receiver["client_id"])
            event = {
                "id": unused_id(db, "events"),
                "resource_type": "order",
                "event_type": event_type,
                "created_at": local_time(time.time(), row["timezone"]),
                "order_id": order_id,
                "location_id": row["location_id"],
                "account_id": self.location(row["location_id"])["account_id"],
            }
            if previous is not None:
                previous_row, previous_body = previous
                event["previous_state"] = self._render(previous_row, receiver["client_id"], private_ref, previous_body)
            event["new_state"] = self._render(row, receiver["client_id"], private_ref)
            record_event(db, receiver["id"], event)

    # Callbacks --------------------------------------------------------------------------

    def get_callback(self, connection: Connection) -> dict:
        row = self.store.query_one("SELECT * FROM callbacks WHERE connection_id = ?", (connection.id,))
        if row is None:
            return {"url": None, "events": {}}
        return {"url": row["url"], "events": json.loads(row["events"])}

    def set_callback(self, connection: Connection, payload: Any) -> dict:
        url, events = validate_callback(payload)
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO callbacks (connection_id, url, events) VALUES (?, ?, ?)"
                " ON CONFLICT (connection_id) DO UPDATE SET url = excluded.url, events = excluded.events",
                (connection.id, url, json.dumps(events)),
            )
        self.dispatcher.wake()
        return {"url": url, "events": events}

    def delete_callback(self, connection: Connection) -> dict:
        with self.store.transaction() as db:
            db.execute("DELETE FROM callbacks WHERE connection_id = ?", (connection.id,))
            db.execute(
                f"DELETE FROM events WHERE connection_id = ? AND state IN ({', '.join('?' * len(UNACKNOWLEDGED))})",  # noqa: S608
                (connection.id, *UNACKNOWLEDGED),
            )
        return {"url": None, "events": {}}

    def list_events(self, connection: Connection, params: dict[str, str]) -> tuple[list[dict], str | None]:
        errors = order_rules.Errors()
        count = _page_size(errors, params.get("count"))
        after_seq = 0
        if params.get("cursor"):
            try:
                after_seq = int(params["cursor"], 36)
            except ValueError:
                errors.add("cursor", "is not a valid cursor")
        errors.raise_if_any()
        rows = self.store.query(
            f"SELECT seq, body FROM events WHERE connection_id = ? AND seq > ?"  # noqa: S608
            f" AND state IN ({', '.join('?' * len(UNACKNOWLEDGED))}) ORDER BY seq LIMIT ?",
            (connection.id, after_seq, *UNACKNOWLEDGED, count + 1),
        )
        next_cursor = _to_base36(rows[count - 1]["seq"]) if len(rows) > count else None
        summaries = []
        for row in rows[:count]:
            body = json.loads(row["body"])
            summaries.append({k: v for k, v in body.items() if k not in ("previous_state", "new_state")})
        return summaries, next_cursor

    def _pending_event(self, connection: Connection, event_id: str, db=None) -> sqlite3.Row:
        sql = (
            f"SELECT * FROM events WHERE id = ? AND connection_id = ?"  # noqa: S608
            f" AND state IN ({', '.join('?' * len(UNACKNOWLEDGED))})"
        )
        params = (event_id, connection.id, *UNACKNOWLEDGED)
        row = db.execute(sql, params).fetchone() if db is not None else self.store.query_one(sql, params)
        if row is None:
            raise not_found(f"Event {event_id!r} not found")
        return row

    def get_event(self, connection: Connection, event_id: str) -> dict:
        return json.loads(self._pending_event(connection, event_id)["body"])

    def acknowledge_event(self, connection: Connection, event_id: str) -> dict:
        with self.store.transaction() as db:
            row = self._pending_event(connection, event_id, db)
            db.execute("UPDATE events SET state = ?, next_attempt_at = NULL WHERE id = ?", (ACKNOWLEDGED, event_id))
        body = json.loads(row["body"])
        return {k: v for k, v in body.items() if k not in ("previous_state", "new_state")}

    # Control ----------------------------------------------------------------------------

    def orders_as_hubrise_holds_them(self, location_id: str) -> list[dict]:
        rows = self.store.query(
            "SELECT o.*, cl.name AS created_by, l.timezone, a.currency FROM orders o"
            " JOIN clients cl ON cl.id = o.created_by_client_id JOIN locations l ON l.id = o.location_id"
            " JOIN accounts a ON a.id = l.account_id WHERE o.location_id = ? ORDER BY o.seq DESC",
            (location_id,),
        )
        result = []
        for row in rows:
            body = json.loads(row["body"])
            view = self._render(row, "", None, body)
            refs = self.store.query("SELECT client_id, private_ref FROM order_private_refs WHERE order_id = ?", (row["id"],))
            view["private_refs"] = {r["client_id"]: r["private_ref"] for r in refs}
            view["created_by_client_id"] = row["created_by_client_id"]
            for key in order_rules.COLLECTIONS:
                for element_view, element in zip(view[key], body[key], strict=True):
                    element_view["private_refs"] = element["private_refs"]
            result.append(view)
        return result

    def events_report(self, params: dict[str, str]) -> list[dict]:
        conditions, values = ["1 = 1"], []
        if params.get("state"):
            states = params["state"].split(",")
            conditions.append(f"e.state IN ({', '.join('?' * len(states))})")
            values.extend(states)
        if params.get("client_id"):
            conditions.append("cn.client_id = ?")
            values.append(params["client_id"])
        if params.get("order_id"):
            conditions.append("json_extract(e.body, '$.order_id') = ?")
            values.append(params["order_id"])
        rows = self.store.query(
            "SELECT e.*, cn.client_id FROM events e LEFT JOIN connections cn ON cn.id = e.connection_id"  # noqa: S608 - placeholders only
            f" WHERE {' AND '.join(conditions)} ORDER BY e.seq",
            values,
        )
        return [
            {
                "id": row["id"],
                "state": row["state"],
                "connection_id": row["connection_id"],
                "client_id": row["client_id"],
                "created_at": row["created_at"],
                "next_attempt_at": row["next_attempt_at"],
                "attempts": json.loads(row["attempts"]),
                "event": json.loads(row["body"]),
            }
            for row in rows
        ]

    def request_log(self, params: dict[str, str]) -> list[dict]:
        conditions, values = ["1 = 1"], []
        for key, column in (("method", "method"), ("status", "status"), ("fault", "fault")):
            if params.get(key):
                conditions.append(f"{column} = ?")
                values.append(params[key].upper() if key == "method" else params[key])
        if params.get("path_prefix"):
            conditions.append("substr(path, 1, ?) = ?")
            values.extend([len(params["path_prefix"]), params["path_prefix"]])
        if params.get("since_id"):
            conditions.append("id > ?")
            values.append(int(params["since_id"]))
        if params.get("client_name"):
            conditions.append("client_name = ?")
            values.append(params["client_name"])
        limit = min(int(params.get("limit") or 200), 2000)
        rows = self.store.query(
            f"SELECT * FROM request_log WHERE {' AND '.join(conditions)} ORDER BY id DESC LIMIT ?",  # noqa: S608
            [*values, limit],
        )
        return [{**dict(row), "processed": bool(row["processed"])} for row in rows]

    def connections_of(self, location_id: str) -> list[dict]:
        rows = self.store.query(
            "SELECT cn.id, cn.token, cn.client_id, cl.name AS client_name, cn.created_at, cb.url, cb.events"
            " FROM connections cn JOIN clients cl ON cl.id = cn.client_id"
            " LEFT JOIN callbacks cb ON cb.connection_id = cn.id"
            " WHERE cn.location_id = ? AND cn.revoked_at IS NULL ORDER BY cn.created_at",
            (location_id,),
        )
        return [
            {
                "id": row["id"],
                "token_hint": mask_token(row["token"]),
                "client_id": row["client_id"],
                "client_name": row["client_name"],
                "callback_url": row["url"],
                "callback_events": json.loads(row["events"]) if row["events"] else None,
            }
            for row in rows
        ]

    def runtime_settings(self) -> dict:
        return {
            "time_unit": self.settings.time_unit,
            "delivery_timeout": self.settings.delivery_timeout,
            "auth_code_ttl": self.settings.auth_code_ttl,
            "rate_limits": asdict(self.limiter.limits),
            "rate_time_unit": self.limiter.minute,
        }

    def update_settings(self, changes: dict) -> dict:
        errors = order_rules.Errors()
        for key in ("time_unit", "delivery_timeout", "auth_code_ttl", "rate_time_unit"):
            if key in changes:
                value = changes[key]
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                    errors.add(key, "must be a positive number of seconds")
        limits = changes.get("rate_limits", {})
        if not isinstance(limits, dict):
            errors.add("rate_limits", "must be an object")
            limits = {}
        for key, value in limits.items():
            if key not in RateLimits.__dataclass_fields__:
                errors.add(f"rate_limits.{key}", "is not a known limit")
            elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
                errors.add(f"rate_limits.{key}", "must be a non-negative integer")
        for key in set(changes) - {"time_unit", "delivery_timeout", "auth_code_ttl", "rate_limits", "rate_time_unit"}:
            errors.add(key, "is not a known setting")
        errors.raise_if_any()
        for key in ("time_unit", "delivery_timeout", "auth_code_ttl"):
            if key in changes:
                setattr(self.settings, key, float(changes[key]))
        if limits or "rate_time_unit" in changes:
            minute = float(changes["rate_time_unit"]) if "rate_time_unit" in changes else None
            self.limiter.reset(RateLimits(**{**asdict(self.limiter.limits), **limits}), minute)
        self.dispatcher.wake()
        return self.runtime_settings()

    def reset(self) -> None:
        self.faults.clear()
        self.store.wipe()
        self.store.seed(self.defaults)
        self.settings = copy.deepcopy(self.defaults)
        self.limiter.reset(copy.deepcopy(self.defaults.rate_limits), self.defaults.rate_time_unit)
        self.dispatcher.wake()
        self.scheduler.wake()


def _page_size(errors: order_rules.Errors, raw: str | None) -> int:
    if raw is None or raw == "":
        return MAX_PAGE
    try:
        count = int(raw)
    except ValueError:
        errors.add("count", f"{raw!r} is not an integer")
        return MAX_PAGE
    if count < 1:
        errors.add("count", "must be at least 1")
    return max(1, min(count, MAX_PAGE))


def _to_base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, remainder = divmod(number, 36)
        text = digits[remainder] + text
        if number == 0:
            return text


def _constant_time_equal(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
