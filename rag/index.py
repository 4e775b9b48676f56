"""The facade every entry point calls: open an index, ingest a corpus, search it, ask it.

    index = rag.open_index(".rag")           # settings by keyword, or RAG_* environment variables
    report = index.ingest("seeds/")          # incremental; returns an IngestReport
    passages = index.search("Who is Belarus's foreign minister?", k=5)
    answer = index.ask("Who is Belarus's foreign minister?")   # an Answer with checked citations

The embedding model is loaded on first need, once per process. One Index may be shared by threads: ingestion
holds a lock, searches run concurrently with it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from rag.answering import Answerer
from rag.embeddings import Embedder, default_embedder
from rag.errors import ConfigError, EmptyQuestionError
from rag.ingest import ingest
from rag.retrieval import retrieve
from rag.settings import Settings
from rag.store import Store
from rag.support import VectorCache
from rag.types import Answer, DocumentInfo, IngestReport, Passage


class Index:
    """A corpus index (Chroma + BM25) with the operations users need."""

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings or Settings()
        self.embedder: Embedder = embedder or default_embedder(
            self.settings.embedding_model, self.settings.batch_size, self.settings.embedding_backend)
        self._ingest_lock = threading.Lock()
        self._documents: tuple[str, list[DocumentInfo]] | None = None
        self.sentence_vectors = VectorCache()  # embeddings of questions and passage sentences, shared by all asks
        self.store = Store(self.settings, self.embedder.name)
        self.answerer = Answerer(self.search, self.embedder, self.settings, self.documents, self.sentence_vectors)

    def ingest(self, path: str | Path | None = None, progress: bool = True, prune: bool = True,
               id_prefix: str = "") -> IngestReport:
        """Bring the index in line with `path` (a folder, a file or a corpus.jsonl; default: the corpus setting).
        `prune` removes documents that came from `path` and are gone; `id_prefix` is put before every id."""
        target = Path(path) if path is not None else Path(self.settings.corpus)
        with self._ingest_lock:
            return ingest(self.store, self.embedder, self.settings, target, progress=progress, prune=prune,
                          id_prefix=id_prefix)

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
        return retrieve(
            self.store, self.embedder, query, k=k or s.top_k, mode=mode, candidates=s.candidates,
            rrf_k=s.rrf_k, fusion=s.fusion, dense_weight=s.dense_weight,
            use_mmr=s.mmr if mmr is None else mmr, mmr_lambda=s.mmr_lambda, documents=documents,
            vector=self.sentence_vectors.embed(self.embedder, [query])[0],
        )

    def documents(self) -> list[DocumentInfo]:
        """The documents in the index, sorted by id (cached until the index changes)."""
        generation = self.store.generation()
        cached = self._documents
        if cached is not None and cached[0] == generation:
            return cached[1]
        states = self.store.scan()
        docs = [DocumentInfo(d, s.title, s.url, len(s.ids)) for d, s in sorted(states.items())]
        self._documents = (generation, docs)
        return docs

    def remove(self, document_id: str) -> bool:
        """Remove one document from the index; False when it was not there."""
        with self._ingest_lock:
            states = self.store.scan()
            state = states.pop(document_id, None)
            if state is None:
                return False
            self.store.delete_ids(state.ids)
            self.store.commit(states)
            return True

    def is_empty(self) -> bool:
        return self.store.count() == 0

    def ask(self, question: str, history: object = None, k: int | None = None, model: str | None = None,
            mode: str | None = None, documents: list[str] | None = None) -> Answer:
        """Answer `question` with citations; `history` is [{"role", "content"}, ...] or [(user, assistant), ...]."""
        return self.answerer.ask(question, history, k=k, model=model, mode=mode, documents=documents)

    def stream(self, question: str, history: object = None, k: int | None = None, model: str | None = None,
               mode: str | None = None, documents: list[str] | None = None) -> Iterator[str | Answer]:
        """Yield text deltas as they come, then the final Answer (whose text is the one to keep)."""
        return self.answerer.stream(question, history, k=k, model=model, mode=mode, documents=documents)


def open_index(index_dir: str | Path | None = None, embedder: Embedder | None = None, **settings: object) -> Index:
    """Open (or create) the index in `index_dir`; other keywords are Settings fields."""
    if index_dir is not None:
        settings["index_dir"] = Path(index_dir)
    try:
        return Index(Settings(**settings), embedder=embedder)  # type: ignore[arg-type]
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
