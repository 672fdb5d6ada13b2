"""The emulator's state file (SQLite, stdlib ``sqlite3``): payments with their orderId index, the completed
idempotent responses with their expiry, the counters, and the webhook deliveries still to make.

- WAL journal, ``synchronous=NORMAL``: a commit survives the process being killed.
- One emulator per file: the file is opened in exclusive locking mode and locked at once, so a second
  emulator on the same file fails at start-up instead of missing the first one's in-flight requests.
- A file that cannot be opened, is not a database, or holds something else than this schema raises
  ``StateFileError`` when it is opened: never a silent empty store.
- ``transaction()`` groups the writes of one synchronous step; nested calls join the outer one.
- Schema version 2 added the webhook deliveries; a version 1 file gets that table when it is opened.
- Caps (``bounds``): ``holds`` and ``trim`` count a table's rows only when its rowid span says it may be over.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

SCHEMA_VERSION = 2
APPLICATION_ID = 0x4B495754  # "KIWT": marks the file as a kiwi-shop Toss emulator state file
BUSY_TIMEOUT_S = 2.0  # a restart may briefly overlap the old process's exit

_SCHEMA = (
    "CREATE TABLE payments (payment_key TEXT PRIMARY KEY, order_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL)",
    "CREATE TABLE responses (idempotency_key TEXT NOT NULL, secret_key TEXT NOT NULL, path TEXT NOT NULL,"
    " method TEXT NOT NULL, expires_at_us INTEGER NOT NULL, status INTEGER NOT NULL, body BLOB NOT NULL,"
    " PRIMARY KEY (idempotency_key, secret_key, path, method))",
    "CREATE INDEX responses_by_expiry ON responses (expires_at_us)",
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
)
_WEBHOOKS = (  # schema version 2
    "CREATE TABLE webhooks (id INTEGER PRIMARY KEY AUTOINCREMENT, payment_key TEXT NOT NULL, body BLOB NOT NULL,"
    " attempts INTEGER NOT NULL, due_us INTEGER NOT NULL)",
    "CREATE INDEX webhooks_by_due ON webhooks (due_us)",
)
_TABLES = frozenset({"payments", "responses", "counters", "webhooks"})
WebhookRow = tuple[int, str, bytes, int, int]
PaymentRow = tuple[int, str, str, str]  # rowid, payment_key, status, requestedAt

ScopeRow = tuple[str, str, str, str]


class StateFileError(RuntimeError):
    """The state file cannot be used (unreadable, not a database, another schema, locked by another process)."""


class StateFile:
    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection
        self._depth = 0

    @classmethod
    def open(cls, path: str | Path) -> StateFile:
        target = Path(path).expanduser()
        connection: sqlite3.Connection | None = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(target, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
            _prepare(connection)
        except (OSError, sqlite3.Error, StateFileError) as exc:
            if connection is not None:
                connection.close()
            raise StateFileError(f"cannot use {target} as the Toss emulator's state file: {exc}") from exc
        return cls(target, connection)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction. It commits even when the block raises (a Toss error answer keeps the
        changes made before it, as the objects in memory do); only a failed write rolls back."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        commit = True
        try:
            yield
        except sqlite3.Error:
            commit = False
            raise
        finally:
            self._depth = 0
            self._end(commit=commit)

    def _end(self, *, commit: bool) -> None:
        try:
            self._db.execute("COMMIT" if commit else "ROLLBACK")
        except sqlite3.Error:
            if self._db.in_transaction:  # a failed COMMIT leaves the transaction open
                self._db.execute("ROLLBACK")
            raise

    # --- payments ---

    def payment(self, payment_key: str) -> str | None:
        return self._text("SELECT body FROM payments WHERE payment_key = ?", payment_key)

    def payment_of_order(self, order_id: str) -> str | None:
        return self._text("SELECT body FROM payments WHERE order_id = ?", order_id)

    def add_payment(self, payment_key: str, order_id: str, body: str) -> None:
        """Add a payment; the earlier payment of the same orderId (never confirmed) is dropped."""
        with self.transaction():
            self._db.execute("DELETE FROM payments WHERE order_id = ?", (order_id,))
            self._db.execute("INSERT INTO payments VALUES (?, ?, ?)", (payment_key, order_id, body))

    def update_payment(self, payment_key: str, body: str) -> None:
        self._db.execute("UPDATE payments SET body = ? WHERE payment_key = ?", (body, payment_key))

    def count_payments(self) -> int:
        return self._count("payments")

    def payments_after(self, rowid: int, limit: int) -> list[PaymentRow]:
        """Up to ``limit`` payments added after the one at ``rowid``, the first added first."""
        rows = self._db.execute(
            "SELECT rowid, payment_key, json_extract(body, '$.status'), json_extract(body, '$.requestedAt')"
            " FROM payments WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (rowid, limit),
        )
        return [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]

    def remove_payments(self, payment_keys: Sequence[str]) -> None:
        self._db.executemany("DELETE FROM payments WHERE payment_key = ?", [(key,) for key in payment_keys])

    def clear_payments(self) -> None:
        self._db.execute("DELETE FROM payments")

    # --- idempotent responses ---

    def response(self, scope: ScopeRow) -> tuple[int, int, bytes] | None:
        """(expires_at_us, status, body) of the stored response of a scope."""
        row = self._db.execute(
            "SELECT expires_at_us, status, body FROM responses"
            " WHERE idempotency_key = ? AND secret_key = ? AND path = ? AND method = ?",
            scope,
        ).fetchone()
        return None if row is None else (int(row[0]), int(row[1]), bytes(row[2]))

    def put_response(self, scope: ScopeRow, expires_at_us: int, status: int, body: bytes) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)", (*scope, expires_at_us, status, body)
        )

    def purge_responses(self, now_us: int) -> None:
        self._db.execute("DELETE FROM responses WHERE expires_at_us <= ?", (now_us,))

    def count_responses(self) -> int:
        return self._count("responses")

    def trim_responses(self, cap: int, keep: int) -> int:
        """Over ``cap`` responses: delete the first to expire (one TTL: the oldest) until ``keep`` remain."""
        return self._trim("responses", "expires_at_us, rowid", cap, keep)

    def clear_responses(self) -> None:
        self._db.execute("DELETE FROM responses")

    # --- webhook deliveries ---

    def add_webhook(self, payment_key: str, body: bytes, due_us: int) -> int:
        sql = "INSERT INTO webhooks (payment_key, body, attempts, due_us) VALUES (?, ?, 0, ?)"
        cursor = self._db.execute(sql, (payment_key, body, due_us))
        return int(cursor.lastrowid or 0)

    def due_webhooks(self, now_us: int, limit: int) -> list[WebhookRow]:
        """(id, payment_key, body, attempts, due_us) of the deliveries due at ``now_us``, the longest due first."""
        rows = self._db.execute(
            "SELECT id, payment_key, body, attempts, due_us FROM webhooks"
            " WHERE due_us <= ? ORDER BY due_us, id LIMIT ?",
            (now_us, limit),
        )
        return [(int(r[0]), str(r[1]), bytes(r[2]), int(r[3]), int(r[4])) for r in rows]

    def next_webhook_due_us(self) -> int | None:
        row = self._db.execute("SELECT min(due_us) FROM webhooks").fetchone()
        return None if row[0] is None else int(row[0])

    def reschedule_webhook(self, webhook_id: int, attempts: int, due_us: int) -> bool:
        sql = "UPDATE webhooks SET attempts = ?, due_us = ? WHERE id = ?"
        return self._db.execute(sql, (attempts, due_us, webhook_id)).rowcount == 1

    def remove_webhook(self, webhook_id: int) -> bool:
        return self._db.execute("DELETE FROM webhooks WHERE id = ?", (webhook_id,)).rowcount == 1

    def count_webhooks(self) -> int:
        return self._count("webhooks")

    def trim_webhooks(self, cap: int, keep: int) -> int:
        """Over ``cap`` deliveries: delete the oldest (by id) until ``keep`` remain."""
        return self._trim("webhooks", "id", cap, keep)

    def clear_webhooks(self) -> None:
        self._db.execute("DELETE FROM webhooks")

    # --- counters ---

    def counters(self) -> dict[str, int]:
        return {str(name): int(value) for name, value in self._db.execute("SELECT name, value FROM counters")}

    def write_counters(self, changed: Mapping[str, int]) -> None:
        """Write the counters that changed; a counter back at zero is removed (as after a reset)."""
        with self.transaction():
            for name, value in changed.items():
                if value:
                    self._db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (name, value))
                else:
                    self._db.execute("DELETE FROM counters WHERE name = ?", (name,))

    def _text(self, sql: str, key: str) -> str | None:
        row = self._db.execute(sql, (key,)).fetchone()
        return None if row is None else str(row[0])

    def _count(self, table: str) -> int:
        return int(self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def holds(self, table: str, count: int) -> bool:
        """Whether ``table`` has ``count`` rows or more. ``count(*)`` reads the whole table; the rowid span (two
        index lookups) is never below the row count, so the rows are counted only when the span reaches ``count``."""
        span = self._db.execute(f"SELECT (SELECT max(rowid) FROM {table}) - (SELECT min(rowid) FROM {table}) + 1")
        return int(span.fetchone()[0] or 0) >= count and self._count(table) >= count

    def _trim(self, table: str, order: str, cap: int, keep: int) -> int:
        if not self.holds(table, cap + 1):
            return 0
        gone = self._count(table) - keep
        sql = f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} ORDER BY {order} LIMIT ?)"
        return self._db.execute(sql, (gone,)).rowcount


def _prepare(db: sqlite3.Connection) -> None:
    """Lock the file for this process, switch it to WAL, and create or check the schema."""
    db.execute("PRAGMA locking_mode = EXCLUSIVE")
    mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]  # "file is not a database" shows here
    if str(mode).lower() != "wal":
        raise StateFileError(f"the file cannot use a WAL journal (journal mode {mode})")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("BEGIN IMMEDIATE")  # takes the lock now, and keeps it until the connection closes
    try:
        _create_or_check_schema(db)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _create_or_check_schema(db: sqlite3.Connection) -> None:
    application_id = int(db.execute("PRAGMA application_id").fetchone()[0])
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    tables = {str(row[0]) for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if application_id == 0 and version == 0 and not tables:
        for statement in (*_SCHEMA, *_WEBHOOKS):
            db.execute(statement)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return
    if application_id != APPLICATION_ID:
        raise StateFileError("the file is an SQLite database, but not a Toss emulator state file")
    if version == 1 and "webhooks" not in tables:  # from before the webhooks: add their table
        for statement in _WEBHOOKS:
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        tables.add("webhooks")
        version = SCHEMA_VERSION
    if version != SCHEMA_VERSION or _TABLES - tables:
        raise StateFileError(f"the file has schema version {version}; this emulator reads version {SCHEMA_VERSION}")
