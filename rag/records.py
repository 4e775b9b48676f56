"""The two record layouts the index stores, each with one writer (`metadata()`) and one reader (`from_chroma()`):

    ChunkRecord  one chunk: its text, its place in its document, and the hashes of what made it
    DocRecord    one document in the catalog: content hash, settings hash, chunk count, title, URL, corpus root,
                 file size and mtime, a version and a time stamp; a removed document is kept as a tombstone
                 (`deleted`) so that other processes see the removal

A chunk's fields are packed into one JSON metadata value beside its document id: Chroma's local store writes an
indexed SQLite row per metadata key, and with one key per field that was a third of a bulk ingest's time
(bench/README.md, "packed chunk metadata"). Records written one key per field are still read.

Only layouts and their codecs: no I/O here (rag.dense reads and writes them in Chroma, rag.catalog mirrors the
DocRecords locally).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from rag.types import PageStarts


@dataclass(frozen=True)
class ChunkRecord:
    """One chunk as Chroma holds it."""

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
    total: int  # how many chunks the document has
    source: str = ""  # the corpus root the document was ingested from
    pages: PageStarts = ()  # the pages the chunk is on: ((offset, page), ...) from its start (PDFs)

    @property
    def lexical_text(self) -> str:
        """What the BM25 side indexes: the title, then the chunk."""
        return f"{self.title}\n{self.text}"

    def metadata(self) -> dict[str, str]:
        """Two Chroma metadata keys: `document` (the one `where` filters on) and the rest packed as JSON in `chunk`.
        Chroma writes one indexed SQLite row per key (module docstring)."""
        packed = {
            "title": self.title, "url": self.url or "", "start": self.start, "end": self.end,
            "position": self.position, "sha256": self.sha256, "fp": self.fingerprint, "n": self.total,
            "source": self.source, "text": self.text, "pages": [list(p) for p in self.pages],
        }
        return {"document": self.document, "chunk": json.dumps(packed, ensure_ascii=False, separators=(",", ":"))}

    @classmethod
    def from_chroma(cls, chunk_id: str, document: str | None, meta: dict) -> ChunkRecord:
        """`document` is Chroma's own text field, where indexes built before the catalog kept the text. Reads both
        layouts: packed (`chunk`) and one key per field (indexes written before 2026-11-26)."""
        if "chunk" in meta:
            packed = json.loads(meta["chunk"])
            pages = tuple((int(o), int(p)) for o, p in packed.get("pages") or ())
            meta = {**packed, "document": meta["document"]}
        else:
            pages = _pages(str(meta.get("pages") or ""))
        text = meta.get("text")
        return cls(
            chunk_id, str(text) if text is not None else (document or ""), str(meta["document"]), str(meta["title"]),
            str(meta["url"]) or None, int(meta["start"]), int(meta["end"]), int(meta["position"]),
            str(meta["sha256"]), str(meta["fp"]), int(meta["n"]), str(meta.get("source", "")), pages,
        )


def one_key_per_field(record: ChunkRecord) -> dict[str, str | int]:
    """A chunk's metadata as indexes written before 2026-11-26 hold it, one Chroma key per field: rag reads this
    layout (`ChunkRecord.from_chroma`) and no longer writes it; tests and bench/chroma_writes.py write it to stand
    in for such an index."""
    r = record
    return {"document": r.document, "title": r.title, "url": r.url or "", "start": r.start, "end": r.end,
            "position": r.position, "sha256": r.sha256, "fp": r.fingerprint, "n": r.total, "source": r.source,
            "text": r.text, "pages": ",".join(f"{o}:{p}" for o, p in r.pages)}


def _pages(encoded: str) -> PageStarts:
    """"14924:55,15600:56" -> ((14924, 55), (15600, 56))."""
    pairs = (item.split(":") for item in encoded.split(",") if item)
    return tuple((int(offset), int(page)) for offset, page in pairs)


@dataclass(frozen=True)
class DocRecord:
    """One document of the catalog (a tombstone when `deleted`)."""

    id: str
    sha256: str = ""
    fingerprint: str = ""
    total: int = 0  # chunks of the document
    title: str = ""
    url: str | None = None
    source: str = ""
    size: int = -1  # the file's size and mtime when it was read (-1: not a file, e.g. a corpus.jsonl line)
    mtime_ns: int = -1
    version: str = ""  # changes whenever the document's chunks do
    stamp: float = 0.0  # when the record was written (seconds since the epoch, the writer's clock)
    deleted: bool = False
    writer: str = ""  # the index folder (rag.local.Local.writer) that wrote it: its own syncs skip it

    def metadata(self) -> dict[str, str | int | float | bool]:
        return {
            "sha256": self.sha256, "fp": self.fingerprint, "n": self.total, "title": self.title,
            "url": self.url or "", "source": self.source, "size": self.size, "mtime_ns": self.mtime_ns,
            "version": self.version, "stamp": self.stamp, "deleted": self.deleted, "writer": self.writer,
        }

    @classmethod
    def from_chroma(cls, doc_id: str, meta: dict) -> DocRecord:
        return cls(
            doc_id, str(meta["sha256"]), str(meta["fp"]), int(meta["n"]), str(meta["title"]),
            str(meta["url"]) or None, str(meta["source"]), int(meta["size"]), int(meta["mtime_ns"]),
            str(meta["version"]), float(meta["stamp"]), bool(meta["deleted"]), str(meta.get("writer", "")),
        )
