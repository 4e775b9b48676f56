"""The index as one store: Chroma (rag.dense, shared), a lexical index and a catalog mirror (local), kept in step.

Every change goes through `write()`, per batch of documents, and costs what changed:

    1. journal   the batch's document ids, durably, in the local catalog (rag.catalog)
    2. chunks    Chroma: the new chunks upserted, the documents' other chunks (as the lexical index lists them)
                 deleted
    3. catalog   Chroma: one record per document (a tombstone for a removed one), with a new version and stamp
    4. lexical   the documents' chunks replaced in the local tantivy index, committed with generation g + 1
    5. mirror    the local catalog rows written, generation g + 1 recorded and the journal cleared, in one transaction

A kill at any moment leaves a journal naming the documents to check; opening the store checks only those
(`recover()`): a document whose stored chunks are one complete version is kept (its catalog record written if
the kill came before it), one half written is deleted (chunks and catalog record) and reported as repaired, so
the next ingestion adds it again. No step scans the
index. Other processes on the same Chroma server catch up with `sync()`: catalog records stamped since their
last look are compared with the mirror, and only changed documents' chunks are fetched (rag.replica).

Thread-safe: writes, recovery and syncs are serialised by one lock; searches read the last lexical commit and
Chroma, and never wait for a write.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag.dense import Dense
from rag.local import Local, matches
from rag.records import ChunkRecord, DocRecord
from rag.replica import Replica
from rag.settings import Settings

log = logging.getLogger("rag")

FILTER_EXACT_MAX = 20_000  # a document filter over at most this many chunks is scored exactly, here


def _version_of(stored: list[ChunkRecord]) -> DocRecord | None:
    """The catalog record of the one complete version these stored chunks make up, or None."""
    if not stored:
        return None
    first = stored[0]
    record = DocRecord(first.document, first.sha256, first.fingerprint, first.total, first.title, first.url,
                       first.source)
    return record if matches(record, stored) else None


class Store:
    """Chroma + the local lexical index and catalog mirror of one index folder."""

    def __init__(self, settings: Settings, embedding_model: str, rebuild: bool = False) -> None:
        self.settings = settings
        self.folder = Path(settings.index_dir)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.embedding_model = embedding_model
        self.lock = threading.RLock()
        self.repaired: list[str] = []  # documents repaired since the last ingestion report took them
        self.on_removed: Callable[[list[str]], None] | None = None  # told the chunk ids each write() deleted
        self.dense = Dense(settings, embedding_model, rebuild=rebuild)
        self.local = Local(self.folder)
        self.catalog, self.lexical = self.local.catalog, self.local.lexical
        self.replica = Replica(self.dense, self.local, self.lock)
        with self.lock:
            if rebuild or self.catalog.state("collection") != self.dense.identity():
                self.local.reset(self.dense.identity())  # it followed another collection, or none
            self.recover()
            if not self.local.in_step():
                self.replica.rebuild_local()  # the lexical folder was lost or replaced: derive it again
        self.replica.sync(force=True)

    # -- the write protocol ---------------------------------------------------------------------------------
    def write(self, documents: list[tuple[DocRecord, list[ChunkRecord], np.ndarray]],
              removals: list[str] = ()) -> None:  # type: ignore[assignment]
        """Replace these documents by the given versions (record, chunks, vectors) and remove `removals`."""
        ids = [record.id for record, _, _ in documents] + list(removals)
        if not ids:
            return
        with self.lock:
            self.lexical.claim()  # before anything changes: a second process writing this folder stops here
            self.catalog.begin(ids, "write")
            chunks = [c for _, cs, _ in documents for c in cs]
            old = set(self.lexical.ids_of(ids))  # what the catalog holds of them (kept equal to Chroma's)
            if chunks:
                self.dense.upsert_chunks(chunks, np.concatenate([v for _, _, v in documents]))
            gone = sorted(old - {c.id for c in chunks})
            self.dense.delete_chunks(gone)
            records = [self._stamped(r, new_version=True) for r, _, _ in documents]
            tombstones = [self._stamped(DocRecord(d, deleted=True), new_version=True) for d in removals]
            self.dense.put_catalog(records + tombstones)
            self.local.commit(ids, chunks, records, list(removals))
            if gone and self.on_removed is not None:
                try:
                    self.on_removed(gone)
                except Exception as exc:  # derived data (sentence rows): never fails a committed write
                    log.warning("after removing %d chunks: %s", len(gone), exc)

    def touch(self, records: list[DocRecord]) -> None:
        """Record new file sizes/mtimes of unchanged documents (no chunk changes, no journal needed)."""
        if records:
            with self.lock:
                stamped = [self._stamped(r) for r in records]
                self.dense.put_catalog(stamped)
                self.catalog.apply(stamped, [])

    def _stamped(self, record: DocRecord, new_version: bool = False) -> DocRecord:
        """The record as this folder writes it to the catalog: stamped now, by this folder."""
        version = uuid.uuid4().hex if new_version else record.version
        return replace(record, stamp=time.time(), writer=self.local.writer, version=version)

    def recover(self) -> list[str]:
        """Bring the journal's documents in step (see the module docstring); returns those repaired."""
        with self.lock:
            journal = self.catalog.journal()
            if not journal:
                return []
            self.lexical.claim()
            ids = sorted(journal)
            records = self.dense.catalog_get(ids)
            by_doc: dict[str, list[ChunkRecord]] = {}
            for chunk in self.dense.chunks_of(ids):
                by_doc.setdefault(chunk.document, []).append(chunk)
            live, gone, chunks, repaired, adopted = [], [], [], [], []
            for doc_id in ids:
                record, stored = records.get(doc_id), by_doc.get(doc_id, [])
                if record is not None and not record.deleted and matches(record, stored):
                    live.append(record)
                    chunks += stored
                    continue
                if journal[doc_id] != "write":  # another process's document, mid-write: the next sync takes it
                    gone.append(doc_id)
                    continue
                whole = _version_of(stored)
                if whole is not None:  # every chunk of one version made it: keep it, as the catalog's record
                    whole = self._stamped(whole, new_version=True)
                    adopted.append(whole)
                    live.append(whole)
                    chunks += stored
                    continue
                gone.append(doc_id)
                if stored or (record is not None and not record.deleted):  # half written: undo it in Chroma
                    self.dense.delete_chunks([c.id for c in stored])
                    adopted.append(self._stamped(DocRecord(doc_id, deleted=True), new_version=True))
                    repaired.append(doc_id)
            self.dense.put_catalog(adopted)
            self.local.commit(ids, chunks, live, gone)
            self.repaired += repaired
            return repaired

    # -- reading --------------------------------------------------------------------------------------------
    def sync(self) -> None:
        """Catch up with changes other processes made (at most every few seconds; see rag.replica)."""
        self.replica.sync()

    def documents(self, source: str | None = None) -> dict[str, DocRecord]:
        return self.catalog.documents(source)

    def titles(self, documents: list[str]) -> dict[str, str]:
        """Document id -> title, for those of `documents` the index holds."""
        return {d: r.title for d, r in self.catalog.get(documents).items()}

    def count(self) -> int:
        """Chunks in the index, as this process knows it."""
        return self.catalog.totals()[1]

    def dense_search(self, vector: np.ndarray, n: int, documents: list[str] | None = None) -> list[tuple[str, float]]:
        """The `n` nearest chunks (cosine similarity), only among `documents`' chunks when given."""
        if documents is None:
            return self.dense.query(vector, n)
        ids = self.lexical.ids_of(documents)
        if len(ids) <= FILTER_EXACT_MAX:
            return self.dense.query_within(vector, n, ids)
        result = self.dense.chunks.query(query_embeddings=[vector.tolist()], n_results=n,
                                         where={"document": {"$in": list(documents)}}, include=["distances"])
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0])]

    def lexical_search(self, query: str, n: int, documents: list[str] | None = None) -> list[tuple[str, float]]:
        return self.lexical.search(query, n, documents)

    def get(self, ids: list[str], embeddings: bool = False) -> tuple[dict[str, ChunkRecord], dict[str, np.ndarray]]:
        """The chunks with these ids (and their vectors when asked) whose document version is in the catalog: a
        chunk removed since, or of a batch another process has not finished, is left out."""
        chunks, vectors = self.dense.get(ids, embeddings)
        live = self.catalog.get({c.document for c in chunks.values()})
        kept = {i: c for i, c in chunks.items() if (r := live.get(c.document)) is not None
                and (r.sha256, r.fingerprint) == (c.sha256, c.fingerprint)}
        return kept, {i: v for i, v in vectors.items() if i in kept}

    def write_manifest(self) -> None:
        """`manifest.json`: what built the index (model, settings, where the vectors live) and its size, for people
        reading the folder; nothing reads it back."""
        documents, chunks = self.catalog.totals()
        manifest = {
            "embedding_model": self.embedding_model,
            "settings": {k: str(v) for k, v in self.settings.fingerprint().items()},
            "chroma": self.dense.where, "collection": self.settings.collection, "documents": documents,
            "chunks": chunks,
        }
        path = self.folder / "manifest.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(manifest, indent=1))
        os.replace(tmp, path)

    def release(self) -> None:
        """Let another process write this folder (the lexical writer's lock is released until the next write)."""
        with self.lock:
            self.lexical.close()

    def close(self) -> None:
        self.local.close()
