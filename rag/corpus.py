"""A corpus folder as a stream: its files with their size and mtime.

    for f in corpus_files(Path("docs/")):       # CorpusFile(doc_id, path, size, mtime_ns), in the walk's order
        ...

Nothing is read whole: a folder is listed (rag.documents.walk_corpus decides which entries are documents) and
each file is stat'ed as it comes (a corpus.jsonl streams through rag.jsonl_corpus.jsonl_lines). `in_shard` splits
documents between workers by a stable hash of their id; `file_sha256` hashes a file in blocks.

Not here: parsing a file (rag.documents.load_file), deciding what changed (rag.ingest).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.documents import walk_corpus
from rag.errors import ConfigError, DocumentError
from rag.types import LoadFailure

_BLOCK = 1 << 20


@dataclass(frozen=True)
class Skipped:
    """An entry of the corpus folder that is not a document (a FIFO, an unsupported type, ...), and why."""

    entry: LoadFailure


@dataclass(frozen=True)
class CorpusFile:
    doc_id: str  # the path relative to the corpus root (the file's name for a single file)
    path: Path
    size: int
    mtime_ns: int


def is_jsonl(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ".jsonl"


def corpus_files(path: Path) -> Iterator[CorpusFile | LoadFailure | Skipped]:
    """The corpus's files (a folder, recursively, or one file), stat'ed one by one; a file that vanished or
    cannot be stat'ed is a LoadFailure, an entry that is not a document is Skipped (rag.documents.walk_corpus)."""
    path = Path(path)
    if not path.exists():
        raise DocumentError(f"corpus not found: {path}")
    base = path if path.is_dir() else path.parent
    for file, reason in walk_corpus(path) if path.is_dir() else [(path, None)]:
        doc_id = file.relative_to(base).as_posix()
        if reason is not None:
            yield Skipped(LoadFailure(doc_id, reason))
            continue
        try:
            stat = os.stat(file)
        except OSError as exc:
            yield LoadFailure(doc_id, f"cannot read file ({exc.strerror or exc})")
            continue
        yield CorpusFile(doc_id, file, stat.st_size, stat.st_mtime_ns)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def parse_shard(text: str) -> tuple[int, int]:
    """"I/N" (1 <= I <= N) -> (I, N)."""
    try:
        part, total = (int(x) for x in text.split("/"))
    except ValueError:
        raise ConfigError(f"--shard takes I/N, e.g. 1/3 (got {text!r})") from None
    if not 1 <= part <= total:
        raise ConfigError(f"--shard {text}: I must be between 1 and N")
    return part, total


def in_shard(doc_id: str, shard: tuple[int, int] | None) -> bool:
    """True when the document belongs to shard I of N (every document belongs to exactly one shard)."""
    if shard is None or shard[1] == 1:
        return True
    digest = hashlib.blake2b(doc_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shard[1] == shard[0] - 1
