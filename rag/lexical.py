"""The lexical side of hybrid search: an incremental BM25 index of chunks on disk (tantivy).

Each chunk is (chunk id, document id, text). Adding, replacing or removing a document touches that document's
chunks only: tantivy writes a small new segment plus delete bitsets at `commit()` and merges segments in the
background, so a change costs what changed, not the size of the index. Ranking is Lucene's BM25 (k1=1.2,
b=0.75) over bm25s's tokenisation, reproduced in Rust: lowercase, tokens matching \\b\\w\\w+\\b, bm25s's English
stopwords removed, Snowball English stems (PyStemmer's algorithm). Measured against the bm25s index it replaces,
recall@5 and MRR@10 stay within 0.5 points on SQuAD v1.1 and HotpotQA (bench/README.md).

A commit is atomic and durable: after a kill the folder opens at the last finished commit, and each commit stores
a caller's `generation` number in the same step. Any number of threads may search while one writes; searches
see the last commit. One process writes a folder at a time (tantivy's lock file); others get `LockBusyError`.

Not here: dense vectors, chunk texts (not stored), phrase queries, fusion.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable
from pathlib import Path

import tantivy

from rag.errors import IndexError_

# bm25s.stopwords.STOPWORDS_EN: the stopwords of the BM25 index this one replaced
STOPWORDS = (
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not",
    "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was",
    "will", "with",
)
_TOKENIZER = "en_bm25s"
_MARKER = "\x00state"  # id of the one bookkeeping record: the generation of the last commit
_FIELDS = ("id", "doc", "body", "meta")
_HEAP_BYTES = 64_000_000
_TIE_SPARE = 16  # hits fetched beyond k, so that chunks tied at the k-th score come in id order whatever the build


class LockBusyError(IndexError_):
    """Another process holds this folder's writer lock."""


def _analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(r"\b\w\w+\b"))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.custom_stopword(list(STOPWORDS)))
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("doc", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("body", stored=False, tokenizer_name=_TOKENIZER, index_option="freq")
    builder.add_text_field("meta", stored=True, tokenizer_name="raw", index_option="basic")
    return builder.build()


_thread = threading.local()


def tokenize(texts: list[str]) -> list[list[str]]:
    """Each text as the index sees it (lowercased, stopwords out, stemmed); thread-safe (one analyzer per
    thread: neither tantivy's analyzers nor PyStemmer's stemmers may be shared between threads)."""
    analyzer = getattr(_thread, "analyzer", None)
    if analyzer is None:
        analyzer = _thread.analyzer = _analyzer()
    return [list(analyzer.analyze(text)) for text in texts]


def _one_token(word: str) -> str | None:
    """The index's one token for `word`, or None when the index would split it or drop it."""
    tokens = tokenize([word])[0] if word.isalnum() else []
    return tokens[0] if len(tokens) == 1 else None


class LexicalIndex:
    """BM25 over the chunks kept in `folder`: thread-safe, one writing process per folder."""

    def __init__(self, folder: str | Path, threads: int = 1) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            exists = tantivy.Index.exists(str(self.folder))
            index = tantivy.Index.open(str(self.folder)) if exists else tantivy.Index(_schema(), path=str(self.folder))
            index.register_tokenizer(_TOKENIZER, _analyzer())
            for name in _FIELDS:
                tantivy.Query.term_query(index.schema, name, "")
        except ValueError as exc:
            raise ValueError(f"{self.folder} does not hold a lexical index of this version: {exc}") from exc
        self._index = index
        self._schema = index.schema
        self._threads = threads
        self._writer: tantivy.IndexWriter | None = None
        self._write_lock = threading.RLock()

    def close(self) -> None:
        """Release the writer and its lock, dropping changes that were not committed."""
        with self._write_lock:
            if self._writer is not None:
                self._writer.rollback()
                self._writer.wait_merging_threads()
                self._writer = None

    # -- writing --------------------------------------------------------------------------------------------
    def claim(self) -> None:
        """Take this folder's writer lock now (raises LockBusyError when another process holds it)."""
        with self._write_lock:
            self._w()

    def _w(self) -> tantivy.IndexWriter:
        if self._writer is None:
            try:
                self._writer = self._index.writer(_HEAP_BYTES, self._threads)
            except ValueError as exc:
                if "lock" in str(exc).lower():
                    raise LockBusyError(f"another process is writing the index in {self.folder.parent}: one process "
                                        "at a time may write an index folder") from exc
                raise
        return self._writer

    def add(self, records: Iterable[tuple[str, str, str]]) -> None:
        """Add (chunk id, document id, text) records, replacing chunks of the same id; visible after `commit()`."""
        with self._write_lock:
            writer = self._w()
            for chunk_id, document_id, text in records:
                writer.delete_documents_by_term("id", chunk_id)
                writer.add_document(tantivy.Document(id=chunk_id, doc=document_id, body=text))

    def delete_documents(self, document_ids: Collection[str]) -> None:
        """Remove every chunk of these documents; effective at `commit()`."""
        if document_ids:
            with self._write_lock:
                query = tantivy.Query.term_set_query(self._schema, "doc", list(document_ids))
                self._w().delete_documents_by_query(query)

    def delete_all(self) -> None:
        with self._write_lock:
            self._w().delete_all_documents()

    def commit(self, generation: int) -> None:
        """Make every change since the last commit durable and visible, with `generation`, atomically."""
        with self._write_lock:
            writer = self._w()
            writer.delete_documents_by_term("id", _MARKER)
            writer.add_document(tantivy.Document(id=_MARKER, meta=str(generation)))
            writer.commit()
            self._index.reload()

    def rollback(self) -> None:
        with self._write_lock:
            if self._writer is not None:
                self._writer.rollback()

    # -- reading --------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """See the latest commit (of another process too) now."""
        self._index.reload()

    def search(self, query: str, k: int, documents: Collection[str] | None = None) -> list[tuple[str, float]]:
        """The best `k` (chunk id, BM25 score) for `query`, best first; only chunks of `documents` when given."""
        if k <= 0 or (documents is not None and not documents):
            return []
        tokens = tokenize([query])[0]
        if not tokens:
            return []
        schema = self._schema
        q = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "body", t, index_option="freq")) for t in tokens]
        )
        if documents is not None:
            only = tantivy.Query.const_score_query(tantivy.Query.term_set_query(schema, "doc", list(documents)), 0.0)
            q = tantivy.Query.boolean_query([(tantivy.Occur.Must, q), (tantivy.Occur.Must, only)])
        searcher = self._index.searcher()
        hits = searcher.search(q, k + _TIE_SPARE, count=False).hits
        found = [(searcher.doc(address)["id"][0], float(score)) for score, address in hits if score > 0]
        return sorted(found, key=lambda pair: (-pair[1], pair[0]))[:k]  # equal scores in id order, in any build

    def holds(self, term: str, with_any: Collection[str] = (), documents: Collection[str] = ()) -> bool:
        """Whether some chunk of the last commit holds `term` as one indexed word (stemmed, as searches see it):
        a chunk of one of `documents`, or any chunk together with one word of `with_any` when any of them is a
        word the index keeps. A term the index would split or drop ("Russian-Belarusian", "1,000", "O'Neil", one
        letter, a stopword) is not held: word order is not indexed, so its parts found apart would not show the
        term."""
        token = _one_token(term)
        if token is None:
            return False
        searcher = self._index.searcher()
        schema = self._schema
        if documents:
            q = tantivy.Query.boolean_query([
                (tantivy.Occur.Must, tantivy.Query.term_query(schema, "body", token)),
                (tantivy.Occur.Must, tantivy.Query.term_set_query(schema, "doc", list(documents))),
            ])
            if searcher.search(q, 1, count=True).count:
                return True
        others = {t for t in map(_one_token, with_any) if t is not None and t != token}
        if not others:
            return searcher.doc_freq("body", token) > 0
        q = tantivy.Query.boolean_query([
            (tantivy.Occur.Must, tantivy.Query.term_query(schema, "body", token)),
            (tantivy.Occur.Must, tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "body", t)) for t in sorted(others)])),
        ])
        return bool(searcher.search(q, 1, count=True).count)

    def ids_of(self, document_ids: Collection[str]) -> list[str]:
        """The chunk ids of these documents, as last committed."""
        if not document_ids:
            return []
        searcher = self._index.searcher()
        q = tantivy.Query.term_set_query(self._schema, "doc", list(document_ids))
        total = searcher.search(q, 1, count=True).count or 0
        if not total:
            return []
        return [searcher.doc(address)["id"][0] for _, address in searcher.search(q, total, count=False).hits]

    def count(self) -> int:
        """Chunks in the last commit."""
        searcher = self._index.searcher()
        return searcher.num_docs - (1 if searcher.doc_freq("id", _MARKER) else 0)

    def generation(self) -> int:
        """The generation stored by the last commit (0 before any)."""
        searcher = self._index.searcher()
        hits = searcher.search(tantivy.Query.term_query(self._schema, "id", _MARKER), 1, count=False).hits
        if not hits:
            return 0
        value = searcher.doc(hits[0][1]).get_first("meta")
        return int(value) if value and str(value).isdigit() else 0

    def all_ids(self) -> list[str]:
        """Every chunk id as last committed (for checks and tests: reads every stored id)."""
        searcher = self._index.searcher()
        if not searcher.num_docs:
            return []
        hits = searcher.search(tantivy.Query.all_query(), searcher.num_docs, count=False).hits
        return [i for i in (searcher.doc(address)["id"][0] for _, address in hits) if i != _MARKER]
