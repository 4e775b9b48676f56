"""Incremental, streaming ingestion: bring the store in line with a corpus, reading and embedding only what changed.

A file is unchanged, and not even read, when its size and mtime match what the catalog recorded; when only its
mtime moved, the hash of its bytes decides (and the new mtime is recorded). Changed and new files stream through
loading, chunking and embedding in groups of about GROUP_CHUNKS chunks, each group stored as one batch of the
store's journaled write, so memory holds one group and the largest document, never the corpus. A corpus.jsonl is
read line by line, a line being unchanged when its content hash and the settings match. Documents gone from the
corpus are removed (only those that came from the same corpus root, so uploads and other corpora are left alone);
a file that fails to load keeps its previous version and is named in the report, and so is every entry that is
not a document (a FIFO, a symlink out of the corpus, an unsupported type: rag.documents.walk_corpus says why).
Each file is parsed under rag.isolation's limits (RAG_PARSE_TIMEOUT, RAG_PARSE_MEMORY_MB). With `shard=(I, N)` only the
documents of shard I are ingested (and pruned): N workers on one Chroma server split a corpus between them.

Not here: parsing files (rag.documents), walking the corpus (rag.corpus), the write protocol (rag.store).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag.chunking import chunk_text
from rag.corpus import CorpusFile, Skipped, corpus_files, file_sha256, in_shard, is_jsonl
from rag.documents import LOADER_VERSION, load_file
from rag.embeddings import INT8_MODEL, Embedder
from rag.errors import DocumentError
from rag.isolation import ParseLimits
from rag.jsonl_corpus import jsonl_lines
from rag.progress import Report, TerminalBar, Tracker
from rag.records import ChunkRecord, DocRecord
from rag.sentence_vectors import SentenceVectors
from rag.settings import Settings
from rag.store import Store
from rag.types import Document, IngestReport, LoadFailure, pages_of

TITLE_TOKENS = 32  # the title is prefixed to each chunk for embedding and BM25, cut to this many tokens
GROUP_CHUNKS = 2048  # chunks embedded and stored together (one journaled batch)
EMBED_SLICE = 256  # texts per embedding call (progress moves between them)


def settings_fingerprint(settings: Settings, embedder_name: str) -> str:
    data = {**settings.fingerprint(), "embedding_model": embedder_name, "title_tokens": TITLE_TOKENS, "v": 1,
            "loaders": LOADER_VERSION}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def source_key(path: Path) -> str:
    return str(path.resolve())


class _Run:
    """One ingestion: the report, the pending group and the progress."""

    def __init__(self, store: Store, embedder: Embedder, settings: Settings, source: str,
                 sentences: SentenceVectors | None = None) -> None:
        self.store, self.embedder, self.settings, self.source = store, embedder, settings, source
        self.sentences = sentences
        self.fingerprint = settings_fingerprint(settings, store.embedding_model)
        self.report = IngestReport()
        self.group: list[tuple[DocRecord, list[ChunkRecord], list[str], int]] = []
        self.tracker = Tracker(0, 0, None)

    def decide(self, doc: Document, old: DocRecord | None, weight: int, size: int = -1, mtime_ns: int = -1) -> None:
        """Queue a loaded document unless it is unchanged (then only its file's new mtime is recorded); `weight`
        is its share of the bytes to ingest, counted as done once its chunks are embedded."""
        if old is not None and (old.sha256, old.fingerprint) == (doc.sha256, self.fingerprint):
            self.report.unchanged.append(doc.id)
            self.tracker.credit(weight)
            if (old.size, old.mtime_ns) != (size, mtime_ns):
                self.store.touch([replace(old, size=size, mtime_ns=mtime_ns)])
            return
        (self.report.updated if old is not None else self.report.added).append(doc.id)
        prefix, budget = _title_prefix(_real_title(doc), self.embedder, self.settings)
        chunks = chunk_text(doc.id, doc.text, self.embedder.token_offsets, budget,
                            self.settings.chunk_overlap_sentences)
        record = DocRecord(doc.id, doc.sha256, self.fingerprint, len(chunks), doc.title, doc.url, self.source,
                           size, mtime_ns)
        records = [ChunkRecord(c.id, c.text, doc.id, doc.title, doc.url, c.start, c.end, c.position, doc.sha256,
                               self.fingerprint, len(chunks), self.source, pages_of(doc.pages, c.start, c.end))
                   for c in chunks]
        self.group.append((record, records, [prefix + c.text for c in chunks], weight))
        if sum(len(r) for _, r, _, _ in self.group) >= GROUP_CHUNKS:
            self.flush()

    def flush(self) -> None:
        """Embed the group's texts, then store them as one batch. Texts are embedded in slices of EMBED_SLICE
        across documents, so that small documents share a batch (one call per document cost 1.6x the CPU on
        SQuAD's two-chunk paragraphs with torch); except with int8 vectors, whose dynamic quantisation scales
        depend on the whole batch: there each document is embedded on its own, so that its vectors do not
        depend on its neighbours (two shard workers must build the same index as one)."""
        if not self.group:
            return
        alone = self.embedder.name == INT8_MODEL
        spans, end = [], 0
        for _, _, doc_texts, _ in self.group:
            spans.append((end, end + len(doc_texts)))
            end += len(doc_texts)
        runs = [[n] for n in range(len(self.group))] if alone else [list(range(len(self.group)))]
        vectors: list[np.ndarray] = []
        credited = [0] * len(self.group)  # bytes of each document counted as done so far
        every_chunk = [c for _, chunks, _, _ in self.group for c in chunks]
        for run in runs:
            texts = [t for n in run for t in self.group[n][2]]
            first = spans[run[0]][0]
            for i in range(0, len(texts), EMBED_SLICE):
                vectors.append(self.embedder.embed(texts[i : i + EMBED_SLICE]))
                if self.sentences is not None:  # before the chunks are stored: a searchable chunk has its row
                    self.sentences.add(every_chunk[first + i : first + i + len(vectors[-1])], vectors[-1])
                done, share = first + i + len(vectors[-1]), 0
                for n in run:  # each document's share of the bytes, as its chunks are embedded
                    (start, stop), weight = spans[n], self.group[n][3]
                    if stop > start and start < done:
                        part = weight * (min(done, stop) - start) // (stop - start) - credited[n]
                        credited[n] += part
                        share += part
                self.tracker.embedded(len(vectors[-1]), share)
        every = np.concatenate(vectors) if vectors else np.zeros((0, 1), dtype=np.float32)
        batch = []
        for n, (record, chunks, doc_texts, weight) in enumerate(self.group):
            if not doc_texts:
                self.tracker.credit(weight)
            batch.append((record, chunks, every[spans[n][0] : spans[n][1]]))
            self.report.embedded += len(chunks)
        self.store.write(batch)
        self.group = []


def ingest(
    store: Store,
    embedder: Embedder,  # used only when something must be embedded (a LazyEmbedder loads then)
    settings: Settings,
    path: Path,
    progress: bool = True,
    prune: bool = True,
    id_prefix: str = "",
    shard: tuple[int, int] | None = None,
    on_progress: Report | None = None,
    sentences: SentenceVectors | None = None,
) -> IngestReport:
    """Bring the store in line with `path`; `on_progress` receives IngestProgress events (else a terminal bar
    when `progress`); `sentences`, when given, gets the sentence vectors of every chunk embedded."""
    started = time.perf_counter()
    path = Path(path)
    if not path.exists():
        raise DocumentError(f"corpus not found: {path}")
    store.replica.sync(force=True)  # plan against what other processes have stored too
    run = _Run(store, embedder, settings, source_key(path), sentences)
    run.report.repaired, store.repaired = list(store.repaired), []
    report_to = on_progress or (TerminalBar() if progress else None)
    known = {d: r for d, r in store.documents(run.source).items() if in_shard(d, shard)}
    seen: set[str] = set()
    max_bytes = int(settings.max_file_mb * 1_000_000)
    limits = ParseLimits(settings.parse_timeout, settings.parse_memory_mb)
    if is_jsonl(path):
        run.tracker = Tracker(1, path.stat().st_size, report_to)
        done = 0
        for _, item, offset in jsonl_lines(path, max_bytes):
            weight, done = offset - done, offset
            item = _prefixed(item, id_prefix)
            if isinstance(item, LoadFailure):
                run.report.failed.append(item)
                seen.add(item.path)
                run.tracker.credit(weight)
            elif in_shard(item.id, shard):
                seen.add(item.id)
                run.decide(item, known.get(item.id), weight)
            else:
                run.tracker.credit(weight)
        run.tracker.read()
    else:
        todo = _plan(run, path, id_prefix, shard, known, seen)
        run.tracker = Tracker(len(todo), sum(f.size for f in todo), report_to)
        for file in todo:
            run.tracker.read()
            try:
                doc = load_file(file.path, file.doc_id, max_bytes, limits)
            except DocumentError as exc:
                run.report.failed.append(LoadFailure(file.doc_id, str(exc)))
                run.tracker.credit(file.size)
            else:
                run.decide(doc, known.get(file.doc_id), file.size, file.size, file.mtime_ns)
    run.flush()
    if prune:
        run.report.removed = sorted(d for d in known if d not in seen)
        store.write([], run.report.removed)
    run.tracker.finish()
    run.report.chunks = store.count()
    store.write_manifest()
    run.report.seconds = time.perf_counter() - started
    return run.report


def _plan(run: _Run, path: Path, id_prefix: str, shard: tuple[int, int] | None, known: dict[str, DocRecord],
          seen: set[str]) -> list[CorpusFile]:
    """The files to read, their ids prefixed; unchanged ones are reported (and their new mtimes recorded)."""
    todo, moved = [], []
    for item in corpus_files(path):
        item = _prefixed(item, id_prefix)
        if isinstance(item, Skipped):  # not a document: named, and a document it used to be is removed
            run.report.skipped.append(item.entry)
            continue
        if isinstance(item, LoadFailure):
            run.report.failed.append(item)
            seen.add(item.path)
            continue
        if not in_shard(item.doc_id, shard):
            continue
        seen.add(item.doc_id)
        old = known.get(item.doc_id)
        if old is not None and old.fingerprint == run.fingerprint and old.size == item.size:
            if old.mtime_ns == item.mtime_ns:
                run.report.unchanged.append(item.doc_id)
                continue
            try:
                same = file_sha256(item.path) == old.sha256
            except OSError:
                same = False
            if same:
                run.report.unchanged.append(item.doc_id)
                moved.append(replace(old, mtime_ns=item.mtime_ns))
                continue
        todo.append(item)
    run.store.touch(moved)
    return todo


def _prefixed(item, prefix: str):  # type: ignore[no-untyped-def]
    """The item with `prefix` before its document id (e.g. "uploads/")."""
    if not prefix:
        return item
    if isinstance(item, Skipped):
        return Skipped(LoadFailure(prefix + item.entry.path, item.entry.error))
    if isinstance(item, LoadFailure):
        return LoadFailure(prefix + item.path, item.error)
    if isinstance(item, CorpusFile):
        return replace(item, doc_id=prefix + item.doc_id)
    return replace(item, id=prefix + item.id)


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
