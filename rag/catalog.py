"""The local half of an index's bookkeeping: one SQLite file (`INDEX_DIR/catalog.sqlite`) holding

    documents   a mirror of the shared catalog's live documents (rag.records.DocRecord): what this process's
                lexical index holds, so listing documents or planning an ingestion reads no chunk metadata
    journal     the documents of the batch in flight, written (durably) before any change and cleared in the same
                transaction that records the change: after a kill, they are the only documents to check
    state       the Chroma collection this mirror follows, the lexical index's generation, the sync watermark

One connection, serialised by a lock (SQLite in WAL mode, synchronous FULL). Not here: Chroma (rag.dense), the
lexical index (rag.lexical), the protocol that keeps them in step (rag.store).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from rag.records import DocRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, sha256 TEXT NOT NULL, fp TEXT NOT NULL, n INTEGER NOT NULL,
    title TEXT NOT NULL, url TEXT, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, version TEXT NOT NULL,
    stamp REAL NOT NULL);
CREATE INDEX IF NOT EXISTS documents_source ON documents (source);
CREATE TABLE IF NOT EXISTS journal (document TEXT PRIMARY KEY, kind TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_COLUMNS = "id, sha256, fp, n, title, url, source, size, mtime_ns, version, stamp"
_CHUNK = 500  # ids per IN (...) query


def _record(row: tuple) -> DocRecord:
    return DocRecord(row[0], row[1], row[2], int(row[3]), row[4], row[5], row[6], int(row[7]), int(row[8]), row[9],
                     float(row[10]))


def _row(r: DocRecord) -> tuple:
    return (r.id, r.sha256, r.fingerprint, r.total, r.title, r.url, r.source, r.size, r.mtime_ns, r.version, r.stamp)


class Catalog:
    """The local mirror, journal and state of one index folder."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30)
        self._lock = threading.RLock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- state ----------------------------------------------------------------------------------------------
    def state(self, key: str, default: str = "") -> str:
        with self._lock:
            row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set_state(self, **values: object) -> None:
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)",
                                 [(k, str(v)) for k, v in values.items()])

    @property
    def generation(self) -> int:
        return int(self.state("generation", "0"))

    # -- documents ------------------------------------------------------------------------------------------
    def documents(self, source: str | None = None) -> dict[str, DocRecord]:
        """Every live document (of one corpus root when `source` is given), by id."""
        with self._lock:
            if source is None:
                rows = self._db.execute(f"SELECT {_COLUMNS} FROM documents ORDER BY id").fetchall()
            else:
                rows = self._db.execute(f"SELECT {_COLUMNS} FROM documents WHERE source = ? ORDER BY id",
                                        (source,)).fetchall()
        return {row[0]: _record(row) for row in rows}

    def get(self, ids: Iterable[str]) -> dict[str, DocRecord]:
        wanted, found = list(ids), {}
        with self._lock:
            for i in range(0, len(wanted), _CHUNK):
                part = wanted[i : i + _CHUNK]
                marks = ",".join("?" * len(part))
                rows = self._db.execute(f"SELECT {_COLUMNS} FROM documents WHERE id IN ({marks})", part).fetchall()
                found.update((row[0], _record(row)) for row in rows)
        return found

    def totals(self) -> tuple[int, int]:
        """(documents, chunks) of the live documents."""
        with self._lock:
            row = self._db.execute("SELECT COUNT(*), COALESCE(SUM(n), 0) FROM documents").fetchone()
        return int(row[0]), int(row[1])

    def sources(self) -> dict[str, int]:
        """Documents per corpus root."""
        with self._lock:
            rows = self._db.execute("SELECT source, COUNT(*) FROM documents GROUP BY source").fetchall()
        return {str(source): int(count) for source, count in rows}

    # -- journal and changes --------------------------------------------------------------------------------
    def journal(self) -> dict[str, str]:
        """The documents of an unfinished batch: id -> "write" (ours) or "sync" (another process's)."""
        with self._lock:
            return dict(self._db.execute("SELECT document, kind FROM journal").fetchall())

    def begin(self, documents: Iterable[str], kind: str) -> None:
        """Record (durably) that these documents are about to change."""
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO journal (document, kind) VALUES (?, ?)",
                                 [(d, kind) for d in documents])

    def apply(self, upserts: list[DocRecord], deletes: Iterable[str], generation: int | None = None,
              **state: object) -> None:
        """In one transaction: write `upserts`, delete `deletes`, clear their journal entries, set the state."""
        ids = [r.id for r in upserts] + list(deletes)
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.executemany(f"INSERT OR REPLACE INTO documents ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                                 [_row(r) for r in upserts])
            self._db.executemany("DELETE FROM documents WHERE id = ?", [(i,) for i in deletes])
            self._db.executemany("DELETE FROM journal WHERE document = ?", [(i,) for i in ids])
            if generation is not None:
                state["generation"] = generation
            self._db.executemany("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)",
                                 [(k, str(v)) for k, v in state.items()])

    def reset(self, **state: object) -> None:
        """Forget every document, the journal and the state (the mirror of another collection)."""
        with self._lock, self._db:
            self._db.execute("BEGIN")
            for table in ("documents", "journal", "state"):
                self._db.execute(f"DELETE FROM {table}")
            self._db.executemany("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)",
                                 [(k, str(v)) for k, v in state.items()])
