"""The facade every entry point calls: open an index, ingest a corpus, search it, ask it.

    index = rag.open_index(".rag")           # settings by keyword, or RAG_* environment variables
    report = index.ingest("seeds/")          # incremental; returns an IngestReport
    passages = index.search("Who is Belarus's foreign minister?", k=5)
    answer = index.ask("Who is Belarus's foreign minister?")   # an Answer with checked citations

The embedding model is loaded on first need, once per process. One Index may be shared by threads: ingestion
holds a lock, searches run concurrently with it. An index built with another embedding model is never replaced
by opening it: `open_index` raises ModelMismatchError, and only `open_index(..., rebuild=True)` (`rag ingest
--rebuild`) deletes it and starts again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from rag.answering import Answerer
from rag.embeddings import BUNDLED_MODEL, Embedder, default_embedder
from rag.errors import ConfigError, EmptyQuestionError, ModelMismatchError
from rag.ingest import ingest, settings_fingerprint, source_key
from rag.progress import Report
from rag.retrieval import retrieve
from rag.sentence_vectors import SentenceVectors
from rag.settings import Settings
from rag.store import Store
from rag.support import VectorCache
from rag.types import Answer, DocumentInfo, IngestReport, Passage


class Index:
    """A corpus index (Chroma + BM25) with the operations users need."""

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None,
                 rebuild: bool = False) -> None:
        self.settings = settings or Settings()
        self.embedder: Embedder = embedder or default_embedder(
            self.settings.embedding_model, self.settings.batch_size, self.settings.embedding_backend)
        self._ingest_lock = threading.Lock()
        self._documents: tuple[tuple[str, int], list[DocumentInfo]] | None = None
        self.sentence_vectors = VectorCache()  # embeddings of questions and passage sentences, shared by all asks
        self.store = Store(self.settings, self.embedder.name, rebuild=rebuild)
        self.sentences = SentenceVectors(self.store.folder, self.embedder, reset=rebuild)
        self.store.on_removed = self.sentences.forget  # a removed or replaced chunk's row goes with it
        self.answerer = Answerer(self.search, self.embedder, self.settings, self.documents, self.sentence_vectors,
                                 known=self.store.lexical.holds)

    def ingest(self, path: str | Path | None = None, progress: bool = True, prune: bool = True,
               id_prefix: str = "", shard: tuple[int, int] | None = None,
               on_progress: Report | None = None) -> IngestReport:
        """Bring the index in line with `path` (a folder, a file or a corpus.jsonl; default: the corpus setting).
        `prune` removes documents that came from `path` and are gone; `id_prefix` is put before every id;
        `shard=(i, n)` takes only shard i of n (1-based) of the documents; `on_progress` receives IngestProgress
        events (otherwise a terminal bar is drawn when `progress`)."""
        target = Path(path) if path is not None else Path(self.settings.corpus)
        with self._ingest_lock:
            try:
                return ingest(self.store, self.embedder, self.settings, target, progress=progress, prune=prune,
                              id_prefix=id_prefix, shard=shard, on_progress=on_progress,
                              sentences=self.sentences if self._uses_sentences() else None)
            finally:
                self.store.release()

    def _uses_sentences(self) -> bool:
        """Searches read sentence vectors (else ingestion need not make them: they are made on first need)."""
        s = self.settings
        return s.sentence_weight > 0 and s.fusion == "convex" and s.mode == "hybrid"

    def search(
        self,
        query: str,
        k: int | None = None,
        mode: str | None = None,
        documents: list[str] | None = None,
        mmr: bool | None = None,
    ) -> list[Passage]:
        """The passages that best match `query`, best first; `documents` restricts the search to those ids."""
        if not query or not query.strip():
            raise EmptyQuestionError("The query is empty: type something to search for.")
        s = self.settings
        mode = mode or s.mode
        if mode not in ("hybrid", "dense", "lexical"):
            raise ConfigError(f"unknown retrieval mode {mode!r}: use hybrid, dense or lexical")
        query = query.strip()
        self.store.sync()
        return retrieve(
            self.store, self.embedder, query, k=k or s.top_k, mode=mode, candidates=s.candidates,
            rrf_k=s.rrf_k, fusion=s.fusion, dense_weight=s.dense_weight, sentences=self.sentences,
            sentence_weight=s.sentence_weight, distinct=s.distinct_documents,
            use_mmr=s.mmr if mmr is None else mmr, mmr_lambda=s.mmr_lambda, documents=documents,
            vector=self.sentence_vectors.embed(self.embedder, [query])[0], cover=s.cover_names,
            question_words=s.question_words,
        )

    def documents(self) -> list[DocumentInfo]:
        """The documents in the index, sorted by id (kept until the index changes)."""
        self.store.sync()
        generation = (self.store.catalog.state("collection"), self.store.catalog.generation)
        cached = self._documents
        if cached is not None and cached[0] == generation:
            return cached[1]
        docs = [DocumentInfo(d, r.title, r.url, r.total, r.source) for d, r in self.store.documents().items()]
        self._documents = (generation, docs)
        return docs

    def remove(self, document_id: str) -> bool:
        """Remove one document from the index; False when it was not there."""
        with self._ingest_lock:
            self.store.sync()
            if document_id not in self.store.catalog.get([document_id]):
                return False
            try:
                self.store.write([], [document_id])
            finally:
                self.store.release()
            return True

    def built_from(self, corpus: str | Path) -> bool:
        """True when the index holds documents, all ingested from `corpus` with this index's settings."""
        self.store.sync()
        documents = self.store.documents()
        if not documents:
            return False
        source, fingerprint = source_key(Path(corpus)), settings_fingerprint(self.settings, self.embedder.name)
        return all(r.source == source and r.fingerprint == fingerprint for r in documents.values())

    def is_empty(self) -> bool:
        self.store.sync()
        return self.store.count() == 0

    def ask(self, question: str, history: object = None, k: int | None = None, model: str | None = None,
            mode: str | None = None, documents: list[str] | None = None) -> Answer:
        """Answer `question` with citations; `history` is [{"role", "content"}, ...] or [(user, assistant), ...]."""
        return self.answerer.ask(question, history, k=k, model=model, mode=mode, documents=documents)

    def stream(self, question: str, history: object = None, k: int | None = None, model: str | None = None,
               mode: str | None = None, documents: list[str] | None = None) -> Iterator[str | Answer]:
        """Yield text deltas as they come, then the final Answer (whose text is the one to keep)."""
        return self.answerer.stream(question, history, k=k, model=model, mode=mode, documents=documents)


def open_index(index_dir: str | Path | None = None, embedder: Embedder | None = None, rebuild: bool = False,
               **settings: object) -> Index:
    """Open (or create) the index in `index_dir`; other keywords are Settings fields. `rebuild` deletes what the
    index holds first (the only way to replace an index built with another embedding model)."""
    if index_dir is not None:
        settings["index_dir"] = Path(index_dir)
    try:
        chosen = Settings(**settings)  # type: ignore[arg-type]
        try:
            return Index(chosen, embedder=embedder, rebuild=rebuild)
        except ModelMismatchError as exc:
            # With no backend chosen, an index of the bundled model's fp32 vectors (built by `torch`, as every
            # index before the ONNX backends was) is served by the `onnx` backend, the same vectors: no rebuild.
            if (embedder is not None or chosen.embedding_model or "embedding_backend" in chosen.model_fields_set
                    or exc.built_with != BUNDLED_MODEL):
                raise
            return Index(chosen.model_copy(update={"embedding_backend": "onnx"}), rebuild=rebuild)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid setting: {problems}") from exc


_default: Index | None = None
_default_lock = threading.Lock()


def default_index() -> Index:
    """The index the settings (RAG_* environment) point to, opened once per process; ingests the corpus if empty."""
    global _default
    with _default_lock:
        if _default is None:
            _default = open_index()
            if _default.is_empty():
                _default.ingest(progress=False)
        return _default


def ask(question: str, history: object = None, **kwargs: object) -> Answer:
    """`default_index().ask(...)`: answer from the default index."""
    return default_index().ask(question, history, **kwargs)  # type: ignore[arg-type]


def stream(question: str, history: object = None, **kwargs: object) -> Iterator[str | Answer]:
    """`default_index().stream(...)`: text deltas, then the final Answer."""
    return default_index().stream(question, history, **kwargs)  # type: ignore[arg-type]
