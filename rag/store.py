"""The index: a Chroma collection (dense), a BM25 index (lexical) and a manifest, kept in step.

Every chunk stored in Chroma describes itself: its document, the document's content hash, the hash of the
settings that cut it, and how many chunks the document has. The manifest (`manifest.json` in the index folder:
each document's hash, title, URL, chunk count, and the settings that built it) is derived from that, so an
interrupted ingestion is repaired from Chroma alone: a document with missing chunks is incomplete and is
re-ingested; nothing is orphaned or duplicated. Because the truth lives in Chroma, several processes sharing one
Chroma server see one index; each keeps its own BM25 copy, rebuilt when the collection's `generation` stamp
(a hash of all chunk ids, written after every change) differs from the one it was built from.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from rag.errors import ConfigError, IndexError_
from rag.lexical import LexicalIndex
from rag.settings import Settings
from rag.types import PageStarts

_PAGE = 2000
_GENERATION_CHECK_SECONDS = 2.0


@dataclass(frozen=True)
class ChunkRecord:
    """One chunk as Chroma holds it: the id, the text (Chroma's "document") and the metadata layout below.
    `metadata()` is its only writer and `from_chroma()` its only reader."""

    id: str
    text: str
    document: str
    title: str
    url: str | None
    start: int  # character offsets of `text` in the document
    end: int
    position: int  # order of the chunk in its document
    sha256: str  # the document's content hash
    fingerprint: str  # hash of the settings that cut and embedded it
    total: int  # how many chunks the document has (a document with fewer stored is incomplete)
    source: str = ""  # the corpus root the document was ingested from
    pages: PageStarts = ()  # the pages the chunk is on: ((offset, page), ...) from its start (PDFs)

    def metadata(self) -> dict[str, str | int]:
        return {
            "document": self.document, "title": self.title, "url": self.url or "", "start": self.start,
            "end": self.end, "position": self.position, "sha256": self.sha256, "fp": self.fingerprint,
            "n": self.total, "source": self.source, "pages": ",".join(f"{o}:{p}" for o, p in self.pages),
        }

    @classmethod
    def from_chroma(cls, chunk_id: str, text: str | None, meta: dict) -> ChunkRecord:
        return cls(
            chunk_id, text or "", str(meta["document"]), str(meta["title"]), str(meta["url"]) or None,
            int(meta["start"]), int(meta["end"]), int(meta["position"]), str(meta["sha256"]), str(meta["fp"]),
            int(meta["n"]), str(meta.get("source", "")), _pages(str(meta.get("pages") or "")),
        )


def _pages(encoded: str) -> PageStarts:
    """"14924:55,15600:56" -> ((14924, 55), (15600, 56))."""
    pairs = (item.split(":") for item in encoded.split(",") if item)
    return tuple((int(offset), int(page)) for offset, page in pairs)


@dataclass
class DocumentState:
    """What the store holds of one document."""

    sha256: str
    fingerprint: str
    expected: int
    title: str
    url: str | None
    ids: list[str] = field(default_factory=list)
    source: str = ""  # the corpus root the document was ingested from

    @property
    def complete(self) -> bool:
        return len(self.ids) == self.expected


def generation_of(states: dict[str, DocumentState]) -> str:
    """A hash of every chunk id: it changes whenever the set of chunks does."""
    all_ids = sorted(i for s in states.values() for i in s.ids)
    return hashlib.sha256("\n".join(all_ids).encode()).hexdigest()[:16] if all_ids else ""


def make_client(settings: Settings):  # type: ignore[no-untyped-def]
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if not url.hostname:
            raise ConfigError(f"chroma_url {settings.chroma_url!r} is not a URL like http://127.0.0.1:8000")
        try:
            return chromadb.HttpClient(
                host=url.hostname, port=url.port or 8000, ssl=url.scheme == "https", settings=chroma_settings
            )
        except Exception as exc:  # noqa: BLE001
            raise IndexError_(f"cannot reach the Chroma server at {settings.chroma_url}: {exc}") from exc
    Path(settings.index_dir).mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(Path(settings.index_dir) / "chroma"), settings=chroma_settings)


class Store:
    """Chroma + BM25 + manifest for one collection."""

    def __init__(self, settings: Settings, embedding_model: str) -> None:
        self.settings = settings
        self.folder = Path(settings.index_dir)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.embedding_model = embedding_model
        self.client = make_client(settings)
        self.collection = self._open_collection()
        self._lexical: LexicalIndex | None = None
        self._checked_at = 0.0

    # -- collection ---------------------------------------------------------------------------------
    def _open_collection(self):  # type: ignore[no-untyped-def]
        name = self.settings.collection
        collection = self.client.get_or_create_collection(
            name,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedding_model": self.embedding_model, "generation": ""},
            embedding_function=None,
        )
        if (collection.metadata or {}).get("embedding_model") != self.embedding_model:
            # a different embedding model built this collection: its vectors are useless to us
            self.client.delete_collection(name)
            collection = self.client.create_collection(
                name,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedding_model": self.embedding_model, "generation": ""},
                embedding_function=None,
            )
        return collection

    def count(self) -> int:
        return self.collection.count()

    def scan(self) -> dict[str, DocumentState]:
        """Every document the collection holds, from the chunks' own metadata."""
        states: dict[str, DocumentState] = {}
        for ids, metas, _ in self._pages(include=["metadatas"]):
            for chunk_id, meta in zip(ids, metas):
                record = ChunkRecord.from_chroma(chunk_id, None, meta)
                state = states.get(record.document)
                if state is None or (state.sha256, state.fingerprint) != (record.sha256, record.fingerprint):
                    if state is not None:  # two versions of one document: mark it incomplete
                        state.expected = -1
                        state.ids.append(chunk_id)
                        continue
                    state = states[record.document] = DocumentState(
                        record.sha256, record.fingerprint, record.total, record.title, record.url,
                        source=record.source,
                    )
                state.ids.append(chunk_id)
        return states

    def _pages(self, include: list[str]):  # type: ignore[no-untyped-def]
        offset = 0
        while True:
            page = self.collection.get(include=include, limit=_PAGE, offset=offset)
            if not page["ids"]:
                return
            yield page["ids"], page.get("metadatas") or [], page.get("documents") or []
            offset += len(page["ids"])

    def add(self, records: list[ChunkRecord], embeddings: np.ndarray) -> None:
        """Add (or replace) chunks with their embeddings, in batches Chroma accepts."""
        step = self.client.get_max_batch_size()
        for i in range(0, len(records), step):
            part = records[i : i + step]
            self.collection.upsert(
                ids=[r.id for r in part],
                embeddings=embeddings[i : i + step],
                documents=[r.text for r in part],
                metadatas=[r.metadata() for r in part],  # type: ignore[misc]
            )

    def delete_ids(self, ids: list[str]) -> None:
        step = self.client.get_max_batch_size()
        for i in range(0, len(ids), step):
            self.collection.delete(ids=ids[i : i + step])

    # -- queries ------------------------------------------------------------------------------------
    def dense(self, vector: np.ndarray, n: int, documents: list[str] | None = None) -> list[tuple[str, float]]:
        """The `n` nearest chunk ids with their cosine similarity."""
        n = min(n, self.count())
        if n <= 0:
            return []
        where = {"document": {"$in": documents}} if documents else None
        result = self.collection.query(
            query_embeddings=[vector.tolist()], n_results=n, where=where, include=["distances"]
        )
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0])]

    def get(self, ids: list[str], embeddings: bool = False) -> tuple[dict[str, ChunkRecord], dict[str, np.ndarray]]:
        """The stored chunks with these ids (and their vectors when asked); missing ids are left out."""
        if not ids:
            return {}, {}
        include = ["documents", "metadatas"] + (["embeddings"] if embeddings else [])
        got = self.collection.get(ids=ids, include=include)
        chunks, vectors = {}, {}
        for i, chunk_id in enumerate(got["ids"]):
            chunks[chunk_id] = ChunkRecord.from_chroma(chunk_id, got["documents"][i], got["metadatas"][i])
            if embeddings:
                vectors[chunk_id] = np.asarray(got["embeddings"][i], dtype=np.float32)
        return chunks, vectors

    def chunk_ids_of(self, documents: list[str]) -> set[str]:
        got = self.collection.get(where={"document": {"$in": documents}}, include=[])
        return set(got["ids"])

    def lexical(self) -> LexicalIndex:
        """The BM25 index for the collection as it is now, rebuilt if the collection changed."""
        now = time.monotonic()
        if self._lexical is not None and now - self._checked_at < _GENERATION_CHECK_SECONDS:
            return self._lexical
        self._checked_at = now
        generation = self.generation()
        if self._lexical is None or self._lexical.generation != generation:
            loaded = LexicalIndex.load(self.folder / "bm25")
            self._lexical = loaded if loaded and loaded.generation == generation else self._rebuild_lexical(generation)
        return self._lexical

    def generation(self) -> str:
        collection = self.client.get_collection(self.settings.collection)
        return str((collection.metadata or {}).get("generation", ""))

    def _rebuild_lexical(self, generation: str) -> LexicalIndex:
        ids, texts = [], []
        for page_ids, metas, docs in self._pages(include=["documents", "metadatas"]):
            ids.extend(page_ids)
            texts.extend(f"{ChunkRecord.from_chroma(i, d, m).title}\n{d}" for i, m, d in zip(page_ids, metas, docs))
        index = LexicalIndex.build(ids, texts, generation)
        try:
            index.save(self.folder / "bm25")
        except OSError:
            pass  # a read-only index folder still searches, from memory
        return index

    # -- after a change -----------------------------------------------------------------------------
    def is_committed(self, states: dict[str, DocumentState]) -> bool:
        """True when the generation stamp and the manifest both describe `states`."""
        generation = generation_of(states)
        return self.generation() == generation and self.read_manifest().get("generation") == generation

    def commit(self, states: dict[str, DocumentState]) -> None:
        """Stamp a new generation, rebuild BM25 and write the manifest for `states`."""
        generation = generation_of(states)
        self.collection.modify(metadata={"embedding_model": self.embedding_model, "generation": generation})
        self._lexical = self._rebuild_lexical(generation)
        self._checked_at = time.monotonic()
        self.write_manifest(states, generation)

    def write_manifest(self, states: dict[str, DocumentState], generation: str) -> None:
        manifest = {
            "embedding_model": self.embedding_model,
            "settings": {k: str(v) for k, v in self.settings.fingerprint().items()},
            "generation": generation,
            "documents": {
                doc: {"sha256": s.sha256, "settings": s.fingerprint, "title": s.title, "url": s.url,
                      "source": s.source, "chunks": s.ids}
                for doc, s in sorted(states.items())
            },
        }
        path = self.folder / "manifest.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(manifest, indent=1))
        os.replace(tmp, path)

    def read_manifest(self) -> dict:
        try:
            return json.loads((self.folder / "manifest.json").read_text())
        except (OSError, ValueError):
            return {}
