"""SQLite persistence: one connection shared by every thread, serialised by a lock.

A single writer lock keeps check-then-write sequences (unique private refs, single-use
auth codes, event claims) atomic without relying on SQLite's own locking semantics.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .config import Settings
from .formats import new_id

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, currency TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS locations (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, name TEXT NOT NULL,
    timezone TEXT NOT NULL, country TEXT NOT NULL, position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS catalogs (
    id TEXT PRIMARY KEY, location_id TEXT NOT NULL, name TEXT NOT NULL
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
    used_at REAL
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

DEMO_LOCATIONS = (
    {
        "name": "Le Petit Bistrot",
        "customers": (
            {"first_name": "Camille", "last_name": "Martin", "email": "camille.martin@example.com"},
            {"first_name": "Lucas", "last_name": "Bernard", "phone": "+33612345678"},
        ),
    },
    {
        "name": "La Brasserie du Port",
        "customers": ({"first_name": "Léa", "last_name": "Dubois", "email": "lea.dubois@example.com"},),
    },
)


class Store:
    def __init__(self, path: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

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
            if settings.demo_token:
                _ensure_demo_connection(db, settings)


def _seed_account(db: sqlite3.Connection) -> None:
    account_id = new_id()
    db.execute(
        "INSERT INTO accounts (id, name, currency) VALUES (?, ?, ?)",
        (account_id, "Get Resto Démo", "EUR"),
    )
    for position, demo in enumerate(DEMO_LOCATIONS, start=1):
        location_id = f"{account_id}-{position}"
        db.execute(
            "INSERT INTO locations (id, account_id, name, timezone, country, position) VALUES (?, ?, ?, 'Europe/Paris', 'FR', ?)",
            (location_id, account_id, demo["name"], position),
        )
        db.execute(
            "INSERT INTO catalogs (id, location_id, name) VALUES (?, ?, ?)",
            (new_id(), location_id, f"Carte {demo['name']}"),
        )
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
    catalog = db.execute("SELECT id FROM catalogs WHERE location_id = ?", (location["id"],)).fetchone()
    customer_list = db.execute("SELECT id FROM customer_lists WHERE location_id = ?", (location["id"],)).fetchone()
    db.execute(
        "INSERT INTO connections (id, token, client_id, location_id, device_id, scope, catalog_id,"
        " customer_list_id, created_at) VALUES (?, ?, ?, ?, '', ?, ?, ?, ?)",
        (
            new_id(),
            settings.demo_token,
            settings.client_id,
            location["id"],
            "location[orders.write,customer_list.write,catalog.read]",
            catalog["id"],
            customer_list["id"],
            time.time(),
        ),
    )


def mask_token(token: str | None) -> str | None:
    if not token:
        return None
    return token[:4] + "…" if len(token) > 8 else "…"
