"""SQLite persistence: one connection shared by every thread, serialised by a lock.

A single writer lock keeps check-then-write sequences (unique private refs, single-use
auth codes, event claims) atomic without relying on SQLite's own locking semantics.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .catalog_rules import check_upload
from .config import Settings
from .demo_catalog import DEMO_LOCATIONS
from .formats import new_id

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, currency TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS locations (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, name TEXT NOT NULL,
    timezone TEXT NOT NULL, country TEXT NOT NULL, position INTEGER NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS catalogs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    location_id TEXT, account_id TEXT, name TEXT NOT NULL, created_at REAL NOT NULL,
    data TEXT NOT NULL DEFAULT '{}', unchecked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS catalog_images (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, catalog_id TEXT NOT NULL,
    type TEXT NOT NULL, size INTEGER NOT NULL, md5 TEXT NOT NULL, data BLOB NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS inventory_entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, catalog_id TEXT NOT NULL, location_id TEXT NOT NULL,
    kind TEXT NOT NULL, ref TEXT NOT NULL, stock TEXT NOT NULL, expires_at REAL,
    UNIQUE (catalog_id, location_id, kind, ref)
);
CREATE TABLE IF NOT EXISTS delivery_plans (
    order_id TEXT PRIMARY KEY, step INTEGER NOT NULL, step_seconds REAL NOT NULL,
    next_at REAL, client_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS customer_lists (
    id TEXT PRIMARY KEY, location_id TEXT NOT NULL, name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS customers (
    id TEXT PRIMARY KEY, customer_list_id TEXT NOT NULL, data TEXT NOT NULL,
    private_refs TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS clients (
    id TEXT PRIMARY KEY, secret TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS connections (
    id TEXT PRIMARY KEY, token TEXT NOT NULL UNIQUE, client_id TEXT NOT NULL,
    location_id TEXT NOT NULL, device_id TEXT NOT NULL DEFAULT '', scope TEXT NOT NULL,
    catalog_id TEXT, customer_list_id TEXT, created_at REAL NOT NULL, revoked_at REAL
);
CREATE TABLE IF NOT EXISTS auth_codes (
    code TEXT PRIMARY KEY, client_id TEXT NOT NULL, location_id TEXT NOT NULL,
    scope TEXT NOT NULL, device_id TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL,
    used_at REAL, catalog_id TEXT
);
CREATE TABLE IF NOT EXISTS orders (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    location_id TEXT NOT NULL, created_at REAL NOT NULL, created_by_client_id TEXT NOT NULL,
    status TEXT NOT NULL, customer_id TEXT, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_by_location ON orders (location_id, seq);
CREATE TABLE IF NOT EXISTS order_private_refs (
    location_id TEXT NOT NULL, client_id TEXT NOT NULL, private_ref TEXT NOT NULL,
    order_id TEXT NOT NULL,
    PRIMARY KEY (location_id, client_id, private_ref)
);
CREATE TABLE IF NOT EXISTS callbacks (
    connection_id TEXT PRIMARY KEY, url TEXT, events TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    connection_id TEXT NOT NULL, created_at REAL NOT NULL, body TEXT NOT NULL,
    state TEXT NOT NULL, attempts TEXT NOT NULL DEFAULT '[]', next_attempt_at REAL
);
CREATE INDEX IF NOT EXISTS events_by_state ON events (state, next_attempt_at);
CREATE TABLE IF NOT EXISTS request_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, method TEXT NOT NULL,
    path TEXT NOT NULL, query TEXT NOT NULL, status INTEGER, client_name TEXT,
    connection_id TEXT, token_hint TEXT, request_body TEXT, response_body TEXT,
    fault TEXT, processed INTEGER NOT NULL, duration_ms INTEGER
);
"""

DATA_TABLES = (
    "accounts",
    "locations",
    "catalogs",
    "catalog_images",
    "inventory_entries",
    "delivery_plans",
    "customer_lists",
    "customers",
    "clients",
    "connections",
    "auth_codes",
    "orders",
    "order_private_refs",
    "callbacks",
    "events",
    "request_log",
)

# Bumped whenever SCHEMA changes: an older sandbox database is dropped and seeded again (it only
# ever holds demo and test data), rather than migrated.
SCHEMA_VERSION = 2
DEFAULT_LOCATION_DETAILS = {
    "address": None,
    "postal_code": None,
    "city": None,
    "cutoff_time": "06:00",
    "opening_hours": None,
    "preparation_time": 15,
    "order_acceptance": {"mode": "online"},
    "custom_fields": {},
}
# The other apps the sandbox plays on a location, besides our app and the POS: (id, secret, name, role).
OTHER_APPS = (
    ("uber-eats.clients.hubrise.com", "uber-eats-secret", "Uber Eats", "uber_eats"),
    ("deliveroo.clients.hubrise.com", "deliveroo-secret", "Deliveroo", "deliveroo"),
    ("uber-direct.clients.hubrise.com", "uber-direct-secret", "Uber Direct", "carrier"),
)
APP_SCOPE = "location[orders.write,customer_list.write,catalog.write,inventory.write]"

log = logging.getLogger(__name__)


class Store:
    def __init__(self, path: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        if self._db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            self._drop_older_schema()
        self._db.executescript(SCHEMA)
        self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _drop_older_schema(self) -> None:
        tables = [
            row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        ]
        if tables:
            log.warning("the sandbox database predates schema version %s: its data are dropped and seeded again", SCHEMA_VERSION)
        for table in tables:
            self._db.execute(f'DROP TABLE IF EXISTS "{table}"')

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def query(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self._db.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: tuple | list = ()) -> sqlite3.Row | None:
        with self.lock:
            return self._db.execute(sql, params).fetchone()

    def close(self) -> None:
        with self.lock:
            self._db.close()

    def wipe(self) -> None:
        with self.transaction() as db:
            for table in DATA_TABLES:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def seed(self, settings: Settings) -> None:
        """Create the demo account once; refresh the clients and demo token every start."""
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM accounts").fetchone() is None:
                _seed_account(db)
            _upsert_client(db, settings.client_id, settings.client_secret, settings.client_name, "app")
            _upsert_client(db, settings.pos_client_id, settings.pos_client_secret, "Caisse (POS)", "pos")
            for client_id, secret, name, role in OTHER_APPS:
                _upsert_client(db, client_id, secret, name, role)
            if settings.demo_token:
                _ensure_demo_connection(db, settings)


def _seed_account(db: sqlite3.Connection) -> None:
    account_id = new_id()
    db.execute(
        "INSERT INTO accounts (id, name, currency) VALUES (?, ?, ?)",
        (account_id, "Get Resto Démo", "EUR"),
    )
    for position, demo in enumerate(DEMO_LOCATIONS, start=1):
        location_id = insert_location(db, account_id, position, demo["name"], "Europe/Paris", demo["details"])
        name, data = check_upload(demo["catalog"], "EUR", creating=True)
        insert_catalog(db, name, data, location_id=location_id)
        customer_list_id = new_id()
        db.execute(
            "INSERT INTO customer_lists (id, location_id, name) VALUES (?, ?, ?)",
            (customer_list_id, location_id, f"Clients {demo['name']}"),
        )
        for customer in demo["customers"]:
            db.execute(
                "INSERT INTO customers (id, customer_list_id, data) VALUES (?, ?, ?)",
                (new_id(), customer_list_id, json.dumps(customer)),
            )


def insert_location(db: sqlite3.Connection, account_id: str, position: int, name: str, timezone: str, details: dict) -> str:
    location_id = f"{account_id}-{position}"
    db.execute(
        "INSERT INTO locations (id, account_id, name, timezone, country, position, details) VALUES (?, ?, ?, ?, 'FR', ?, ?)",
        (location_id, account_id, name, timezone, position, json.dumps({**DEFAULT_LOCATION_DETAILS, **details})),
    )
    return location_id


def insert_catalog(
    db: sqlite3.Connection,
    name: str,
    data: dict,
    *,
    location_id: str | None = None,
    account_id: str | None = None,
    unchecked: bool = False,
) -> str:
    """A location-level catalog (``location_id``) or an account-level one (``account_id``)."""
    catalog_id = unused_id(db, "catalogs")
    db.execute(
        "INSERT INTO catalogs (id, location_id, account_id, name, created_at, data, unchecked) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (catalog_id, location_id, account_id, name, time.time(), json.dumps(data, ensure_ascii=False), int(unchecked)),
    )
    return catalog_id


def unused_id(db: sqlite3.Connection, table: str) -> str:
    """A short random id like HubRise's, drawn again while ``table`` has it: 5 characters collide
    within a few thousand ids (a 1 in 13 chance over 3,000 orders)."""
    while True:
        candidate = new_id()
        if db.execute(f"SELECT 1 FROM {table} WHERE id = ?", (candidate,)).fetchone() is None:  # noqa: S608 - our table names
            return candidate


def _upsert_client(db: sqlite3.Connection, client_id: str, secret: str, name: str, role: str) -> None:
    db.execute(
        "INSERT INTO clients (id, secret, name, role) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET secret = excluded.secret, name = excluded.name,"
        " role = excluded.role",
        (client_id, secret, name, role),
    )


def _ensure_demo_connection(db: sqlite3.Connection, settings: Settings) -> None:
    if db.execute("SELECT 1 FROM connections WHERE token = ?", (settings.demo_token,)).fetchone():
        return
    location = db.execute("SELECT id FROM locations ORDER BY position LIMIT 1").fetchone()
    catalog = db.execute("SELECT id FROM catalogs WHERE location_id = ? ORDER BY seq", (location["id"],)).fetchone()
    customer_list = db.execute("SELECT id FROM customer_lists WHERE location_id = ?", (location["id"],)).fetchone()
    db.execute(
        "INSERT INTO connections (id, token, client_id, location_id, device_id, scope, catalog_id,"
        " customer_list_id, created_at) VALUES (?, ?, ?, ?, '', ?, ?, ?, ?)",
        (
            new_id(),
            settings.demo_token,
            settings.client_id,
            location["id"],
            APP_SCOPE,
            catalog["id"],
            customer_list["id"],
            time.time(),
        ),
    )


def mask_token(token: str | None) -> str | None:
    if not token:
        return None
    return token[:4] + "…" if len(token) > 8 else "…"
