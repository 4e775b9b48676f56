"""The values of the package, each a frozen dataclass with one `to_json`:

    Document      a loaded file or corpus.jsonl line, with its page starts (documents.py makes them)
    LoadFailure   a file that could not be loaded or was skipped, and why
    Chunk         a sentence window of a document             (chunking.py)
    Passage       a retrieved chunk with its scores           (retrieval.py)
    Citation      an [n] marker mapped to the sentence it quotes, and whether that sentence supports the claim
    Support       how many of an answer's claims and citations the passages support   (claims.py, citing.py)
    Answer        text, citations, passages, refused?, partial?, support, timings, settings hash   (answering.py)
    DocumentInfo  one document of the index, as listed to users
    IngestReport  what one ingestion changed
    IngestProgress  how far an ingestion has come (chunks stored, rate, ETA)

Only values live here: no I/O, no model, no store. Everything else imports them from this module.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field, replace

EXTRACTIVE = "extractive"  # Answer.mode: extracted offline, no LLM
LLM = "llm"  # answered by a language model
REFUSAL = "refusal"  # refused before any answering (nothing relevant enough was retrieved)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


PageStarts = tuple[tuple[int, int], ...]  # ((offset into the document text, page number), ...) in order


def page_at(pages: PageStarts, offset: int) -> int | None:
    """The page that the character at `offset` is on (None for a document without pages)."""
    i = bisect_right([start for start, _ in pages], offset) - 1
    return pages[max(i, 0)][1] if pages else None


def pages_of(pages: PageStarts, start: int, end: int) -> PageStarts:
    """The page starts of the span [start, end): its first page (at `start`) and every page that begins inside."""
    if not pages:
        return ()
    first = page_at(pages, start)
    return ((start, first),) + tuple((o, p) for o, p in pages if start < o < end) if first is not None else ()


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    text: str
    url: str | None
    sha256: str
    path: str | None = None
    pages: PageStarts = ()  # where each page starts in `text` (PDFs); empty for formats without pages

    def to_json(self) -> dict:
        return {"id": self.id, "title": self.title, "url": self.url, "sha256": self.sha256, "path": self.path,
                "pages": len(self.pages)}


@dataclass(frozen=True)
class LoadFailure:
    path: str
    error: str

    def to_json(self) -> dict:
        return {"path": self.path, "error": self.error}


@dataclass(frozen=True)
class Chunk:
    id: str
    document_id: str
    text: str
    start: int  # character offsets into Document.text
    end: int
    position: int  # order of the chunk in its document

    def to_json(self) -> dict:
        return {"id": self.id, "document": self.document_id, "text": self.text, "start": self.start,
                "end": self.end, "position": self.position}


PASSAGE_FIELDS = ("id", "document", "title", "url", "text", "start", "end", "page", "page_end", "score",
                  "dense_score", "lexical_score")


@dataclass(frozen=True)
class Passage:
    id: str
    document: str
    title: str
    url: str | None
    text: str
    start: int  # character offsets of `text` in the document
    end: int
    score: float
    dense_score: float | None = None
    lexical_score: float | None = None
    rank: int = 0
    pages: PageStarts = ()  # the pages the passage is on, from its start (PDFs); empty otherwise

    @property
    def page(self) -> int | None:
        """The page the passage starts on (None without pages)."""
        return self.pages[0][1] if self.pages else None

    @property
    def page_end(self) -> int | None:
        """The page the passage ends on (None without pages)."""
        return self.pages[-1][1] if self.pages else None

    def page_at(self, offset: int) -> int | None:
        """The page of the character at document offset `offset` inside this passage."""
        return page_at(self.pages, offset)

    def to_json(self, fields: tuple[str, ...] = PASSAGE_FIELDS) -> dict:
        """The passage as JSON (scores rounded to 6 places); `fields` picks and orders the keys."""
        values = {
            "id": self.id, "document": self.document, "title": self.title, "url": self.url, "text": self.text,
            "start": self.start, "end": self.end, "page": self.page, "page_end": self.page_end,
            "score": round(self.score, 6), "dense_score": _round(self.dense_score),
            "lexical_score": _round(self.lexical_score),
        }
        return {name: values[name] for name in fields}


@dataclass(frozen=True)
class Citation:
    n: int  # the number the user sees: 1, 2, 3 in order of first use
    passage_id: str
    document: str
    title: str
    url: str | None
    quote: str  # the exact supporting text: document_text[start:end]
    start: int
    end: int
    inferred: bool = False  # attached by matching sentences, not by a marker the model wrote
    supported: bool = True  # the passage supports the claim (numbers and names included); false: flagged
    moved_from: str | None = None  # the passage id the model cited, when the check moved the citation here
    page: int | None = None  # the page the quote starts on (PDFs); filled in from the passage by Answer

    def to_json(self) -> dict:
        return {
            "n": self.n, "document": self.document, "title": self.title, "url": self.url,
            "passage_id": self.passage_id, "quote": self.quote, "start": self.start, "end": self.end,
            "inferred": self.inferred, "supported": self.supported, "moved_from": self.moved_from,
            "page": self.page,
        }


@dataclass(frozen=True)
class Support:
    """The per-claim support check of one answer. A claim is a cited clause or an uncited sentence that states
    something; a citation is one (claim, passage) pair as the model wrote it."""

    claims: int
    claims_supported: int  # claims that a cited (or moved-to) passage supports
    citations: int
    citations_supported: int  # citations whose passage supports the claim as written
    citations_moved: int = 0  # unsupported citations moved to a retrieved passage that supports the claim
    unsupported_claims: list[str] = field(default_factory=list)  # unsupported or uncited claims, in order

    def to_json(self) -> dict:
        return {"claims": self.claims, "claims_supported": self.claims_supported, "citations": self.citations,
                "citations_supported": self.citations_supported, "citations_moved": self.citations_moved,
                "unsupported_claims": self.unsupported_claims}


# the passage keys of an answer's JSON (`rag ask --json`, POST /api/ask)
ANSWER_PASSAGE_FIELDS = ("id", "document", "title", "url", "text", "start", "end", "page", "score", "dense_score")


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # with [n] markers, numbered as `citations`
    citations: list[Citation]
    passages: list[Passage]
    refused: bool
    mode: str  # "extractive" (offline), "llm", or "refusal" (refused before any answering)
    partial: bool = False  # answers part of the question and says the documents do not say the rest
    model: str | None = None  # the litellm model string when mode is llm
    standalone_question: str = ""  # the question actually searched (rewritten from a follow-up)
    notice: str | None = None  # a one-line notice, e.g. that the LLM failed and the offline answer is shown
    timings_ms: dict[str, float] = field(default_factory=dict)
    settings_hash: str = ""
    support: Support | None = None  # None for a refusal

    def __post_init__(self) -> None:
        # every citation names the page its quote starts on, read from the passage it quotes
        passages = {p.id: p for p in self.passages if p.pages}
        if passages and any(c.page is None and c.passage_id in passages for c in self.citations):
            cited = [replace(c, page=passages[c.passage_id].page_at(c.start)) if c.page is None
                     and c.passage_id in passages else c for c in self.citations]
            object.__setattr__(self, "citations", cited)

    @property
    def label(self) -> str:
        if self.refused:
            return "Not found in the documents"
        if self.mode == EXTRACTIVE:
            return "Extracted from the documents (offline, no LLM)"
        return f"Answered by {self.model}"

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question or self.question,
            "answer": self.text,
            "refused": self.refused,
            "partial": self.partial,
            "mode": self.mode,
            "model": self.model,
            "label": self.label,
            "notice": self.notice,
            "citations": [c.to_json() for c in self.citations],
            "support": self.support.to_json() if self.support is not None else None,
            "passages": [p.to_json(ANSWER_PASSAGE_FIELDS) for p in self.passages],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "settings_hash": self.settings_hash,
        }


@dataclass(frozen=True)
class DocumentInfo:
    id: str
    title: str
    url: str | None
    chunks: int
    source: str = ""  # the corpus folder or file it was ingested from (a server path: not in to_json)

    def to_json(self) -> dict:
        return {"id": self.id, "title": self.title, "url": self.url, "chunks": self.chunks}


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[LoadFailure] = field(default_factory=list)
    skipped: list[LoadFailure] = field(default_factory=list)  # entries that are not documents, and why
    repaired: list[str] = field(default_factory=list)
    chunks: int = 0  # chunks in the index after the run
    embedded: int = 0  # chunks embedded by this run
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "removed": len(self.removed),
            "unchanged": len(self.unchanged),
            "failed": [f.to_json() for f in self.failed],
            "skipped": [f.to_json() for f in self.skipped],
            "chunks": self.chunks,
            "embedded": self.embedded,
            "repaired": len(self.repaired),
            "seconds": round(self.seconds, 3),
            "documents": {"added": self.added, "updated": self.updated, "removed": self.removed},
        }


@dataclass(frozen=True)
class IngestProgress:
    chunks: int  # chunks embedded and stored so far by this run
    files: int  # files (or corpus.jsonl lines) read so far, of those that needed reading
    files_total: int
    bytes: int  # bytes of those read so far
    bytes_total: int
    elapsed_s: float
    done: bool = False

    @property
    def chunks_per_s(self) -> float:
        return self.chunks / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left, from the share of bytes read so far (None before anything is read)."""
        if self.done:
            return 0.0
        if self.bytes <= 0 or self.bytes_total <= 0:
            return None
        return max(self.elapsed_s * (self.bytes_total - self.bytes) / self.bytes, 0.0)

    def to_json(self) -> dict:
        eta = self.eta_s
        return {
            "event": "progress", "chunks": self.chunks, "chunks_per_s": round(self.chunks_per_s, 1),
            "files": self.files, "files_total": self.files_total, "bytes": self.bytes,
            "bytes_total": self.bytes_total, "elapsed_s": round(self.elapsed_s, 1),
            "eta_s": None if eta is None else round(eta, 1), "done": self.done,
        }
