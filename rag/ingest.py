"""Incremental ingestion: bring the store in line with a corpus, embedding only what changed.

A document is unchanged when its content hash and the settings that cut and embedded it match what the store
holds; it is then neither re-chunked nor re-embedded. Changed documents are replaced, documents gone from the
corpus are removed (only those that came from the same corpus root, so uploads and other corpora in the same
index are left alone), and incomplete documents left by an interrupted run are deleted and ingested again.
A file that fails to load keeps its previous version in the index, and is named in the report.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from rag.chunking import chunk_text
from rag.documents import LOADER_VERSION, load_corpus
from rag.embeddings import Embedder
from rag.settings import Settings
from rag.store import ChunkRecord, DocumentState, Store
from rag.isolation import ParseLimits
from rag.types import Chunk, Document, IngestReport, LoadFailure, pages_of

TITLE_TOKENS = 32  # the title is prefixed to each chunk for embedding and BM25, cut to this many tokens
GROUP_CHUNKS = 1024  # chunks embedded and stored together
PROGRESS_MIN_DOCUMENTS = 5


def settings_fingerprint(settings: Settings, embedder_name: str) -> str:
    data = {**settings.fingerprint(), "embedding_model": embedder_name, "title_tokens": TITLE_TOKENS, "v": 1,
            "loaders": LOADER_VERSION}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def source_key(path: Path) -> str:
    return str(path.resolve())


def ingest(
    store: Store,
    embedder: Embedder,  # used only when something must be embedded (a LazyEmbedder loads then)
    settings: Settings,
    path: Path,
    progress: bool = True,
    prune: bool = True,
    id_prefix: str = "",
) -> IngestReport:
    started = time.perf_counter()
    report = IngestReport()
    limits = ParseLimits(settings.parse_timeout, settings.parse_memory_mb)
    loaded = load_corpus(path, max_bytes=int(settings.max_file_mb * 1_000_000), limits=limits)
    if id_prefix:  # e.g. "uploads/": keeps ids apart from the main corpus's
        loaded.documents = [replace(d, id=id_prefix + d.id) for d in loaded.documents]
        loaded.failures = [LoadFailure(id_prefix + f.path, f.error) for f in loaded.failures]
        loaded.skipped = [LoadFailure(id_prefix + f.path, f.error) for f in loaded.skipped]
    report.failed, report.skipped = loaded.failures, loaded.skipped
    source = source_key(path)
    fingerprint = settings_fingerprint(settings, store.embedding_model)

    states = store.scan()
    for doc_id, state in list(states.items()):
        if not state.complete:
            store.delete_ids(state.ids)
            del states[doc_id]
            report.repaired.append(doc_id)
    current = {doc.id: doc for doc in loaded.documents}
    failed_ids = {f.path for f in loaded.failures}

    if prune:
        for doc_id, state in list(states.items()):
            if state.source == source and doc_id not in current and doc_id not in failed_ids:
                store.delete_ids(state.ids)
                del states[doc_id]
                report.removed.append(doc_id)

    todo: list[Document] = []
    for doc in loaded.documents:
        old = states.get(doc.id)
        if old is not None and (old.sha256, old.fingerprint) == (doc.sha256, fingerprint):
            report.unchanged.append(doc.id)
            continue
        (report.updated if old is not None else report.added).append(doc.id)
        todo.append(doc)

    if todo:
        bar = tqdm(
            total=len(todo), unit="doc", desc="Ingesting", file=sys.stderr,
            disable=not progress or len(todo) <= PROGRESS_MIN_DOCUMENTS,
        )
        group: list[tuple[Document, list[Chunk], str]] = []
        for doc in todo:
            prefix, budget = _title_prefix(_real_title(doc), embedder, settings)
            group.append((doc, chunk_text(doc.id, doc.text, embedder.token_offsets, budget,
                                          settings.chunk_overlap_sentences), prefix))
            if sum(len(c) for _, c, _ in group) >= GROUP_CHUNKS:
                report.embedded += _store_group(store, embedder, group, states, fingerprint, source)
                bar.update(len(group))
                group = []
        if group:
            report.embedded += _store_group(store, embedder, group, states, fingerprint, source)
            bar.update(len(group))
        bar.close()

    if todo or report.removed or report.repaired or not store.is_committed(states):
        store.commit(states)
    report.chunks = sum(len(s.ids) for s in states.values())
    report.seconds = time.perf_counter() - started
    return report


def _real_title(doc: Document) -> str:
    """The title worth prefixing: not when it is merely the text's own first line."""
    return "" if doc.text.lstrip().startswith(doc.title) else doc.title


def _title_prefix(title: str, embedder: Embedder, settings: Settings) -> tuple[str, int]:
    """The title as prefixed to each chunk (cut to TITLE_TOKENS tokens), and the token budget left for text."""
    spans = embedder.token_offsets([title])[0] if title else []
    if len(spans) > TITLE_TOKENS:
        title = title[: spans[TITLE_TOKENS - 1][1]]
    used = min(len(spans), TITLE_TOKENS) + 1 if spans else 0
    return (f"{title}\n" if spans else ""), max(min(settings.chunk_tokens, embedder.max_tokens) - used, 16)


def _store_group(
    store: Store,
    embedder: Embedder,
    group: list[tuple[Document, list[Chunk], str]],
    states: dict[str, DocumentState],
    fingerprint: str,
    source: str,
) -> int:
    records, texts = [], []
    for doc, chunks, prefix in group:
        for chunk in chunks:
            texts.append(prefix + chunk.text)
            records.append(ChunkRecord(
                chunk.id, chunk.text, doc.id, doc.title, doc.url, chunk.start, chunk.end, chunk.position,
                doc.sha256, fingerprint, len(chunks), source, pages_of(doc.pages, chunk.start, chunk.end),
            ))
    vectors = embedder.embed(texts)
    old = [i for doc, _, _ in group if doc.id in states for i in states[doc.id].ids]
    if old:
        store.delete_ids(old)
    store.add(records, vectors)
    for doc, chunks, _ in group:
        states[doc.id] = DocumentState(
            doc.sha256, fingerprint, len(chunks), doc.title, doc.url, [c.id for c in chunks], source
        )
    return len(texts)
