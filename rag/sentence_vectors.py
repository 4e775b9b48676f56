"""The vectors of each chunk's sentences, so that retrieval can score a passage by its best-matching sentence.

Kept in the index folder's `sentences.sqlite`, one row per chunk id: its document, a hash of the title its
sentences were embedded under, its own vector and the vectors of its title-prefixed sentences, each vector as
int8 with its own scale (388 bytes for 384 dimensions; cosines within about 0.001 of float32). A search
reads its candidates' rows there instead of their vectors from Chroma. Ingestion writes the rows of every chunk
it embeds when the ranking reads them (replacing any older row); a chunk found without a row, or with one made
under another title (an index built before sentence vectors, a replica that ingested nothing), gets it on first
need. Rows made by another embedding model are dropped on opening; a damaged file is replaced by an empty one;
a busy or read-only file costs the rows' keeping, never a search. Each chunk's sentences
are embedded in one call of their own, so its vectors do not depend on which chunks were embedded beside it
(int8 quantisation scales with the batch; two ingest workers store the same rows).

Not here: how the vectors rank passages (rag.retrieval), whether a chunk is still live (the caller's final
fetch, rag.store.get). A chunk that this process's `Store.write` removes loses its row (`forget`, told by the
store). A few rows of removed chunks can stay, a few KB each, until `rag ingest --rebuild`:
- a chunk removed by another process sharing the Chroma server;
- a chunk undone by the store's recovery after a kill, or removed just before a kill;
- a chunk a concurrent search was making a row for as it was removed;
- a removal while another process held the file's write lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.chunking import sentence_spans
from rag.embeddings import Embedder
from rag.records import ChunkRecord

FILE = "sentences.sqlite"
log = logging.getLogger("rag")
FORMAT = 2  # PRAGMA user_version of the file; rows of another format are dropped (they are made again)
BUSY_WAIT_MS = 30_000  # how long a write waits for another process's write
FORGET_WAIT_MS = 200  # ... when deleting rows, inside the store's write (searches wait on that)


@dataclass(frozen=True)
class Row:
    document: str
    vector: np.ndarray  # the chunk's own vector
    sentences: np.ndarray  # one row per sentence


def sentence_texts(chunk: ChunkRecord) -> list[str]:
    """What is embedded for the chunk's sentences: each one after the title (the whole text if it has none)."""
    prefix = f"{chunk.title}\n" if chunk.title else ""
    return [prefix + chunk.text[a:b] for a, b in sentence_spans(chunk.text)] or [prefix + chunk.text]


def pack(vectors: np.ndarray) -> bytes:
    """Rows of unit vectors as int8 with one float32 scale each (symmetric, per row)."""
    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    scales = np.maximum(np.abs(vectors).max(axis=1, keepdims=True), 1e-12) / 127.0
    codes = np.round(vectors / scales).astype(np.int8)
    return scales.astype(np.float32).tobytes() + codes.tobytes()


def unpack(blob: bytes, n: int) -> np.ndarray:
    scales = np.frombuffer(blob, dtype=np.float32, count=n).reshape(n, 1)
    return np.frombuffer(blob, dtype=np.int8, offset=4 * n).reshape(n, -1).astype(np.float32) * scales


def _row(document: str, vector: bytes, n: int, sentences: bytes) -> Row:
    """A stored row, read back as float32 (what was kept is what is returned, written or read)."""
    return Row(document, unpack(vector, 1)[0], unpack(sentences, n))


def _damaged(exc: sqlite3.Error) -> bool:
    """Not a database, or a malformed one (not busy, read-only or out of space: those are OperationalError)."""
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)


def _in_parts(ids: list[str], size: int = 500) -> Iterator[tuple[list[str], str]]:
    """`ids` in parts small enough for one SQL `IN (...)`, each with its placeholders."""
    for i in range(0, len(ids), size):
        part = ids[i:i + size]
        yield part, ",".join("?" * len(part))


def title_hash(title: str) -> bytes:
    return hashlib.sha256(title.encode()).digest()[:8]


class SentenceVectors:
    """Chunk id -> its document, vector and sentence vectors, in `folder/sentences.sqlite`; thread-safe."""

    def __init__(self, folder: str | Path, embedder: Embedder, reset: bool = False) -> None:
        self.path = Path(folder) / FILE
        self.embedder = embedder
        self.lock = threading.Lock()
        try:
            self.db = self._open(reset)
        except sqlite3.DatabaseError as exc:
            if not _damaged(exc):
                raise
            self.db = self._remake()

    def _open(self, reset: bool) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=BUSY_WAIT_MS / 1000, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            if db.execute("PRAGMA user_version").fetchone()[0] != FORMAT:
                db.execute("DROP TABLE IF EXISTS chunks")
                db.execute(f"PRAGMA user_version = {FORMAT}")
            db.execute("CREATE TABLE IF NOT EXISTS chunks (id TEXT PRIMARY KEY, document TEXT, title BLOB, "
                       "vector BLOB, n INTEGER, sentences BLOB)")
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            model = db.execute("SELECT value FROM meta WHERE key = 'model'").fetchone()
            if reset or model is None or model[0] != self.embedder.name:  # rows of another model: not these
                db.execute("DELETE FROM chunks")  # emptied in place: another process may have the file open
                db.execute("INSERT OR REPLACE INTO meta VALUES ('model', ?)", (self.embedder.name,))
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _remake(self) -> sqlite3.Connection:
        """A new, empty file in place of a damaged one (the rows are derived data: they are made again)."""
        log.warning("%s is damaged: made again (sentence vectors are recomputed as searches need them)", self.path)
        for path in (self.path, self.path.with_name(FILE + "-wal"), self.path.with_name(FILE + "-shm")):
            path.unlink(missing_ok=True)
        return self._open(False)

    def _failed(self, exc: sqlite3.Error) -> None:
        """After a failed read or write (called holding the lock): no transaction left open, a damaged file made
        again; a busy or read-only file is left as it is (the rows are then made again, or not kept)."""
        with contextlib.suppress(sqlite3.Error):
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
        if _damaged(exc):
            self.db.close()
            try:
                self.db = self._remake()
            except (OSError, sqlite3.Error) as again:  # cannot replace it (a read-only folder): keep rows in memory
                log.warning("%s cannot be made again (%s): sentence vectors kept in memory", self.path, again)
                self.path = Path(":memory:")
                self.db = self._open(False)
        else:
            log.warning("sentence vectors not kept in %s: %s", self.path, exc)

    def add(self, chunks: list[ChunkRecord], vectors: np.ndarray) -> dict[str, Row]:
        """Embed the chunks' sentences and store them with the chunks' own `vectors` (replacing older rows); the
        rows are returned even when the file cannot take them (busy, read-only, damaged)."""
        records = []
        for chunk, vector in zip(chunks, vectors):
            texts = sentence_texts(chunk)
            records.append((chunk.id, chunk.document, title_hash(chunk.title), pack(vector), len(texts),
                            pack(self.embedder.embed(texts))))
        if records:
            with self.lock:
                try:
                    self.db.execute("BEGIN")
                    self.db.executemany("INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?, ?)", records)
                    self.db.execute("COMMIT")
                except sqlite3.Error as exc:
                    self._failed(exc)
        return {cid: _row(document, vector, n, blob) for cid, document, _, vector, n, blob in records}

    def rows(self, ids: list[str], titles: Callable[[list[str]], dict[str, str]]) -> dict[str, Row]:
        """The rows of these chunk ids made under their document's current title (`titles`: document ids ->
        title, for the documents the index holds); the others are left out (see `add`)."""
        found: list[tuple] = []
        with self.lock:
            try:
                for part, marks in _in_parts(ids):
                    found += self.db.execute(f"SELECT * FROM chunks WHERE id IN ({marks})", part).fetchall()
            except sqlite3.Error as exc:
                self._failed(exc)
                found = []
        current = {d: title_hash(t) for d, t in titles(sorted({r[1] for r in found})).items()}
        return {cid: _row(document, vector, n, blob)
                for cid, document, title, vector, n, blob in found if current.get(document) == title}

    def forget(self, ids: list[str]) -> None:
        """Delete the rows of these chunk ids (removed from the index). It waits at most FORGET_WAIT_MS for a file
        another process is writing (the caller holds the store's lock); a file that cannot take it keeps them."""
        with self.lock:
            try:
                self.db.execute(f"PRAGMA busy_timeout = {FORGET_WAIT_MS}")
                self.db.execute("BEGIN")
                for part, marks in _in_parts(ids):
                    self.db.execute(f"DELETE FROM chunks WHERE id IN ({marks})", part)
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._failed(exc)
            finally:
                with contextlib.suppress(sqlite3.Error):
                    self.db.execute(f"PRAGMA busy_timeout = {BUSY_WAIT_MS}")

    def count(self) -> int:
        with self.lock:
            return int(self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    def close(self) -> None:
        with self.lock:
            self.db.close()
