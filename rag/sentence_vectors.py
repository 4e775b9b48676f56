"""The vectors of each chunk's sentences, so that retrieval can score a passage by its best-matching sentence.

Kept in the index folder's `sentences.sqlite`, one row per chunk id: its document, a hash of the title its
sentences were embedded under, its own vector and the vectors of its title-prefixed sentences (float16). A search
reads the rows of its candidates there and nothing from Chroma. Ingestion writes the rows of every chunk it
embeds (replacing any older row); a chunk found without a row, or with one made under another title (an index
built before sentence vectors, a replica that ingested nothing), gets it on first need. Each chunk's sentences
are embedded in one call of their own, so its vectors do not depend on which chunks were embedded beside it
(int8 quantisation scales with the batch; two ingest workers store the same rows).

Not here: how the vectors rank passages (rag.retrieval), whether a chunk is still live (the caller's final
fetch, rag.store.get). Rows of chunks since removed stay (a few KB each); `rag ingest --rebuild` starts afresh.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.chunking import sentence_spans
from rag.embeddings import Embedder
from rag.records import ChunkRecord

FILE = "sentences.sqlite"


@dataclass(frozen=True)
class Row:
    document: str
    vector: np.ndarray  # the chunk's own vector
    sentences: np.ndarray  # one row per sentence


def sentence_texts(chunk: ChunkRecord) -> list[str]:
    """What is embedded for the chunk's sentences: each one after the title (the whole text if it has none)."""
    prefix = f"{chunk.title}\n" if chunk.title else ""
    return [prefix + chunk.text[a:b] for a, b in sentence_spans(chunk.text)] or [prefix + chunk.text]


def title_hash(title: str) -> bytes:
    return hashlib.sha256(title.encode()).digest()[:8]


class SentenceVectors:
    """Chunk id -> its document, vector and sentence vectors, in `folder/sentences.sqlite`; thread-safe."""

    def __init__(self, folder: str | Path, embedder: Embedder, reset: bool = False) -> None:
        self.path = Path(folder) / FILE
        self.embedder = embedder
        self.lock = threading.Lock()
        self.db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS chunks (id TEXT PRIMARY KEY, document TEXT, title BLOB, "
                        "vector BLOB, n INTEGER, sentences BLOB)")
        if reset:  # emptied in place: another process may have the file open
            self.db.execute("DELETE FROM chunks")

    def add(self, chunks: list[ChunkRecord], vectors: np.ndarray) -> dict[str, Row]:
        """Embed the chunks' sentences and store them with the chunks' own `vectors` (replacing older rows)."""
        rows = {c.id: Row(c.document, np.asarray(v, dtype=np.float16),
                          np.asarray(self.embedder.embed(sentence_texts(c)), dtype=np.float16))
                for c, v in zip(chunks, vectors)}
        if rows:
            titles = {c.id: title_hash(c.title) for c in chunks}
            with self.lock:
                self.db.execute("BEGIN")
                self.db.executemany("INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?, ?)", [
                    (cid, r.document, titles[cid], r.vector.tobytes(), len(r.sentences), r.sentences.tobytes())
                    for cid, r in rows.items()])
                self.db.execute("COMMIT")
        return {cid: Row(r.document, r.vector.astype(np.float32), r.sentences.astype(np.float32))
                for cid, r in rows.items()}

    def rows(self, ids: list[str], titles: Callable[[list[str]], dict[str, str]]) -> dict[str, Row]:
        """The rows of these chunk ids made under their document's current title (`titles`: document ids ->
        title, for the documents the index holds); the others are left out (see `add`)."""
        found: list[tuple] = []
        with self.lock:
            for i in range(0, len(ids), 500):
                part = ids[i:i + 500]
                found += self.db.execute(f"SELECT * FROM chunks WHERE id IN ({','.join('?' * len(part))})",
                                         part).fetchall()
        current = {d: title_hash(t) for d, t in titles(sorted({r[1] for r in found})).items()}
        return {cid: Row(document, np.frombuffer(vector, dtype=np.float16).astype(np.float32),
                         np.frombuffer(blob, dtype=np.float16).reshape(n, -1).astype(np.float32))
                for cid, document, title, vector, n, blob in found if current.get(document) == title}

    def count(self) -> int:
        with self.lock:
            return int(self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    def close(self) -> None:
        with self.lock:
            self.db.close()
