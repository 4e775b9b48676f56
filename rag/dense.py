"""The shared truth of an index, in Chroma: the dense vectors and two collections.

    chunks   (RAG_COLLECTION)            one record per chunk: vector, text and metadata (rag.records.ChunkRecord)
    catalog  (RAG_COLLECTION + ".catalog") one record per document (rag.records.DocRecord), tombstones included

Chroma is all that several processes share (a `chroma run` server), so what every process must agree on lives
here; each process keeps its own lexical index and catalog mirror in its index folder (rag.store). The chunk
collection's metadata names the embedding model that built it. Opening it with another model raises
`ModelMismatchError`; only `rebuild=True` (`rag ingest --rebuild`) deletes and recreates the collections.

The chunk text is kept in the chunk's metadata (rag.records packs the fields into one value) rather than as a Chroma
document: Chroma 1.x indexes documents for full-text search (an FTS5 trigram table) on every write, which this
project never queries (bench/README.md).
The chunk collection is created with HNSW `ef_search` 400 (Chroma's default is 100): the fusion reads the whole
list of 50-100 dense candidates, whose tail an approximate search with a small beam gets differently for the same
chunks inserted in another order (two ingest workers against one: bench/README.md). It is built with
`ef_construction` 64 (Chroma's default is 100): inserting into the graph is most of a large ingest's store time,
and with the wide search beam the narrower build beam still finds 99.97% of the exact top 10 (bench/README.md).
Both apply to collections created from now on; an existing one keeps its own until `rag ingest --rebuild`.
Document filters are answered from chunk ids (fetch those vectors, score them here) rather than by Chroma's
`where` filter, whose cost grows with the collection.

Not here: lexical search, the local mirror, the crash journal (rag.store, rag.catalog), fusion (rag.retrieval).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from rag.errors import ConfigError, IndexError_, ModelMismatchError
from rag.records import ChunkRecord, DocRecord
from rag.settings import Settings

FORMAT = 2  # 1: no catalog (the text as the Chroma document, a "generation" stamp); 2: with the catalog
_PAGE = 2000
_QUERY_TRIES = 3  # Chroma's HNSW reader can miss an id a concurrent write is adding ("Error finding id"): retried
_IN_BATCH = 500  # document ids per `where $in` request
_EF_SEARCH = 400  # HNSW search beam of new chunk collections (module docstring)
_EF_CONSTRUCTION = 64  # HNSW insertion beam of new chunk collections (Chroma's default 100; module docstring)


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


class Dense:
    """The chunk and catalog collections of one index."""

    def __init__(self, settings: Settings, embedding_model: str, rebuild: bool = False) -> None:
        self.settings = settings
        self.embedding_model = embedding_model
        self.where = settings.chroma_url or str(Path(settings.index_dir) / "chroma")
        self.client = make_client(settings)
        self.migrated = 0  # documents moved into the catalog from a format-1 index by this open
        self.open(rebuild)

    # -- collections ----------------------------------------------------------------------------------------
    def open(self, rebuild: bool = False) -> None:
        """Open (or create) both collections; refuse another embedding model unless `rebuild`."""
        name = self.settings.collection
        existing = self._existing(name)
        if existing is not None and rebuild:
            self.client.delete_collection(name)
            if self._existing(name + ".catalog") is not None:
                self.client.delete_collection(name + ".catalog")
            existing = None
        if existing is not None:
            built_with = str((existing.metadata or {}).get("embedding_model", ""))
            if built_with != self.embedding_model:
                raise ModelMismatchError(
                    f"the index in {self.where} (collection {name!r}) was built with the embedding model "
                    f"{built_with!r}, not {self.embedding_model!r}: use that model (RAG_EMBEDDING_MODEL, "
                    f"RAG_EMBEDDING_BACKEND), or replace the index with `rag ingest --rebuild`, which deletes it and "
                    f"embeds every document again with {self.embedding_model!r}", built_with
                )
        self.chunks = existing or self.client.get_or_create_collection(
            name, embedding_function=None,
            configuration={"hnsw": {"space": "cosine", "ef_search": _EF_SEARCH, "ef_construction": _EF_CONSTRUCTION}},
            metadata={"embedding_model": self.embedding_model, "rag_format": FORMAT},
        )
        self.catalog = self.client.get_or_create_collection(
            name + ".catalog", configuration={"hnsw": {"space": "l2"}}, embedding_function=None,
            metadata={"rag_format": FORMAT},
        )
        if int((self.chunks.metadata or {}).get("rag_format", 1)) < FORMAT:
            self.migrated = self._migrate()

    def _existing(self, name: str):  # type: ignore[no-untyped-def]
        from chromadb.errors import NotFoundError

        try:
            return self.client.get_collection(name, embedding_function=None)
        except (NotFoundError, ValueError):
            return None

    def identity(self) -> str:
        """The chunk collection's id: it changes when the collection is deleted and made again."""
        return str(self.chunks.id)

    def current_identity(self) -> str | None:
        """The id of the collection under our name on the server now (None when it is gone)."""
        found = self._existing(self.settings.collection)
        return None if found is None else str(found.id)

    def _migrate(self) -> int:
        """Format 1 -> 2: write a catalog record for every complete document, delete incomplete ones' chunks."""
        by_doc: dict[str, list[ChunkRecord]] = {}
        for page in self._pages(self.chunks, ["metadatas"]):
            for chunk_id, meta in page:
                record = ChunkRecord.from_chroma(chunk_id, None, meta)
                by_doc.setdefault(record.document, []).append(record)
        complete, broken = [], []
        for doc_id, chunks in by_doc.items():
            first = chunks[0]
            same = all((c.sha256, c.fingerprint) == (first.sha256, first.fingerprint) for c in chunks)
            if same and len(chunks) == first.total:
                complete.append(DocRecord(doc_id, first.sha256, first.fingerprint, first.total, first.title,
                                          first.url, first.source, version=first.sha256[:16]))
            else:
                broken += [c.id for c in chunks]
        self.delete_chunks(broken)
        self.put_catalog(complete)
        self.chunks.modify(metadata={"embedding_model": self.embedding_model, "rag_format": FORMAT})
        return len(complete)

    # -- chunks ---------------------------------------------------------------------------------------------
    def count(self) -> int:
        return self.chunks.count()

    def upsert_chunks(self, records: list[ChunkRecord], vectors: np.ndarray) -> None:
        step = self.client.get_max_batch_size()
        for i in range(0, len(records), step):
            part = records[i : i + step]
            self.chunks.upsert(ids=[r.id for r in part], embeddings=vectors[i : i + step],
                               metadatas=[r.metadata() for r in part])  # type: ignore[misc]

    def delete_chunks(self, ids: list[str]) -> None:
        step = self.client.get_max_batch_size()
        for i in range(0, len(ids), step):
            self.chunks.delete(ids=ids[i : i + step])

    def chunks_of(self, documents: list[str], texts: bool = True) -> list[ChunkRecord]:
        """Every stored chunk of these documents (whatever the catalog says: orphans too)."""
        found: list[ChunkRecord] = []
        include = ["metadatas", "documents"] if texts else ["metadatas"]
        for i in range(0, len(documents), _IN_BATCH):
            got = self.chunks.get(where={"document": {"$in": documents[i : i + _IN_BATCH]}}, include=include)
            docs = got.get("documents") or [None] * len(got["ids"])
            found += [ChunkRecord.from_chroma(c, d, m) for c, d, m in zip(got["ids"], docs, got["metadatas"])]
        return found

    def chunk_ids_of(self, documents: list[str]) -> list[str]:
        ids: list[str] = []
        for i in range(0, len(documents), _IN_BATCH):
            ids += self.chunks.get(where={"document": {"$in": documents[i : i + _IN_BATCH]}}, include=[])["ids"]
        return ids

    def get(self, ids: list[str], embeddings: bool = False) -> tuple[dict[str, ChunkRecord], dict[str, np.ndarray]]:
        """The stored chunks with these ids (and their vectors when asked); missing ids are left out."""
        if not ids:
            return {}, {}
        include = ["documents", "metadatas"] + (["embeddings"] if embeddings else [])
        got = self.chunks.get(ids=ids, include=include)
        chunks, vectors = {}, {}
        docs = got.get("documents") or [None] * len(got["ids"])
        for i, chunk_id in enumerate(got["ids"]):
            chunks[chunk_id] = ChunkRecord.from_chroma(chunk_id, docs[i], got["metadatas"][i])
            if embeddings:
                vectors[chunk_id] = np.asarray(got["embeddings"][i], dtype=np.float32)
        return chunks, vectors

    def query(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """The `n` nearest chunk ids with their cosine similarity."""
        if n <= 0:
            return []
        for attempt in range(_QUERY_TRIES):
            try:
                result = self.chunks.query(query_embeddings=[vector.tolist()], n_results=n, include=["distances"])
                break
            except Exception as exc:  # chromadb.errors.InternalError, raised while a batch is being written
                if "error finding id" not in str(exc).lower() or attempt == _QUERY_TRIES - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0])]

    def query_within(self, vector: np.ndarray, n: int, ids: list[str]) -> list[tuple[str, float]]:
        """The `n` nearest among `ids`, exactly: their vectors are fetched and scored here."""
        scored: list[tuple[str, float]] = []
        step = self.client.get_max_batch_size()
        for i in range(0, len(ids), step):
            got = self.chunks.get(ids=ids[i : i + step], include=["embeddings"])
            if len(got["ids"]):
                sims = np.asarray(got["embeddings"], dtype=np.float32) @ vector
                scored += zip(got["ids"], (float(s) for s in sims))
        return sorted(scored, key=lambda pair: -pair[1])[:n]

    # -- catalog --------------------------------------------------------------------------------------------
    def put_catalog(self, records: list[DocRecord]) -> None:
        step = self.client.get_max_batch_size()
        for i in range(0, len(records), step):
            part = records[i : i + step]
            self.catalog.upsert(ids=[r.id for r in part], embeddings=np.zeros((len(part), 1), dtype=np.float32),
                                metadatas=[r.metadata() for r in part])  # type: ignore[misc]

    def catalog_get(self, ids: list[str]) -> dict[str, DocRecord]:
        found: dict[str, DocRecord] = {}
        for i in range(0, len(ids), _PAGE):
            got = self.catalog.get(ids=ids[i : i + _PAGE], include=["metadatas"])
            found.update((d, DocRecord.from_chroma(d, m)) for d, m in zip(got["ids"], got["metadatas"]))
        return found

    def catalog_since(self, stamp: float, not_by: str) -> Iterator[list[DocRecord]]:
        """Pages of the catalog records written after `stamp` (any time when `stamp` <= 0), except by `not_by`."""
        others = {"writer": {"$ne": not_by}}
        where = {"$and": [{"stamp": {"$gt": stamp}}, others]} if stamp > 0 else others
        for page in self._pages(self.catalog, ["metadatas"], where):
            yield [DocRecord.from_chroma(d, m) for d, m in page]

    @staticmethod
    def _pages(collection, include: list[str], where: dict | None = None) -> Iterator[list[tuple[str, dict]]]:  # type: ignore[no-untyped-def]
        offset = 0
        while True:
            got = collection.get(include=include, where=where, limit=_PAGE, offset=offset)
            if not got["ids"]:
                return
            yield list(zip(got["ids"], got["metadatas"]))
            offset += len(got["ids"])
