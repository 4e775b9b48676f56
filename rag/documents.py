"""Load a corpus (a folder, one file, or a BEIR-style ``.jsonl``) into `Document`s, naming every file it skips.

    walk_corpus(root)                   every visible entry under root: (path, None) to load, (path, reason) skipped
    iter_corpus_files(root)             the files walk_corpus would load
    load_file(path, doc_id, max_bytes)  one file -> Document (DocumentError with a short reason)
    load_corpus(path, max_bytes)        all of it -> LoadResult(documents, failures, skipped)

Reading is bounded: a file is opened without blocking and must be a regular file (FIFOs, sockets and devices are
skipped and named, so is anything a symlink leads to outside the corpus folder, and a symlinked folder, which is
not followed); at most `max_bytes` are read; the parse runs in a worker process under a time and memory limit
(rag.isolation; the formats are in rag.parsers). Hidden files and folders (a leading dot) are skipped silently.
A trailing "Original url:" block becomes `Document.url`. PDFs keep each page's start offset (`Document.pages`).
Bad files become `LoadFailure`s, never exceptions, and never cost the good files beside them.

Does not handle: OCR of scanned PDFs, password-protected PDFs, .doc/.rtf/.odt/.epub, charset guessing for plain
text, markdown front matter, .jsonl files inside a folder (named as skipped).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import DocumentError
from rag.isolation import ParseLimits, parse_isolated
from rag.jsonl_corpus import load_jsonl, pick_title, split_trailer
from rag.parsers import Parsed
from rag.types import Document, LoadFailure

SUPPORTED_EXTENSIONS = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
# bumped when what the loaders extract changes, so that an index re-reads files whose bytes did not change
LOADER_VERSION = 2

NESTED_JSONL = "a .jsonl file inside a folder is not read (ingest it on its own: rag ingest FILE.jsonl)"


@dataclass
class LoadResult:
    documents: list[Document]
    failures: list[LoadFailure]  # files that could not be read (an index keeps their previous version)
    skipped: list[LoadFailure] = field(default_factory=list)  # entries that are not documents, with the reason


def walk_corpus(root: Path) -> Iterator[tuple[Path, str | None]]:
    """Every entry under `root` that is not hidden, sorted by relative path: (path, None) for a file to load,
    (path, reason) for one that is skipped. Folders are read recursively; symlinks are followed only to files
    inside the corpus folder (judged on the real path)."""
    root = Path(root)
    real_root = Path(os.path.realpath(root))
    found: list[tuple[Path, str | None]] = []
    folders = [root]
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as exc:
            found.append((folder, f"cannot read folder ({exc.strerror or exc})"))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            reason = _skip_reason(entry, real_root)
            if reason == "folder":
                folders.append(Path(entry.path))
            else:
                found.append((Path(entry.path), reason))
    found.sort(key=lambda item: item[0].relative_to(root).as_posix())
    yield from found


def _skip_reason(entry: os.DirEntry, real_root: Path) -> str | None:
    """"folder" for a folder to descend into, None for a file to load, else why the entry is skipped."""
    try:
        if entry.is_symlink():
            target = Path(os.path.realpath(entry.path))
            if not target.exists():
                return "broken symlink"
            if target != real_root and not target.is_relative_to(real_root):
                return "symlink to a place outside the corpus folder (not followed)"
            if target.is_dir():
                return "symlinked folder (not followed: link the files, or copy the folder in)"
        mode = entry.stat(follow_symlinks=True).st_mode
    except OSError as exc:
        return f"cannot read ({exc.strerror or exc})"
    if stat.S_ISDIR(mode):
        return "folder"
    if not stat.S_ISREG(mode):
        return f"not a regular file ({_kind(mode)})"
    ext = Path(entry.name).suffix.lower()
    if ext == ".jsonl":
        return NESTED_JSONL
    if ext not in SUPPORTED_EXTENSIONS:
        return f"unsupported file type ({ext or 'no extension'})"
    return None


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def iter_corpus_files(root: Path) -> list[Path]:
    """The supported files under `root` that `walk_corpus` would load, sorted by relative path."""
    return [path for path, reason in walk_corpus(root) if reason is None]


def load_corpus(path: str | Path, max_bytes: int = 20_000_000, limits: ParseLimits | None = None) -> LoadResult:
    """Load a folder (recursively), a single supported file, or a BEIR ``.jsonl``, collecting failures and
    skipped entries; `limits` bound each file's parse (default: ParseLimits())."""
    source = Path(path)
    if not source.exists():
        raise DocumentError(f"corpus not found: {path}")
    if source.is_file() and source.suffix.lower() == ".jsonl":
        return _jsonl_result(source, max_bytes)
    limits = limits or ParseLimits()
    result = LoadResult(documents=[], failures=[])
    base = source if source.is_dir() else source.parent
    entries = list(walk_corpus(source)) if source.is_dir() else [(source, None)]
    todo = []
    for file, reason in entries:
        doc_id = file.relative_to(base).as_posix()
        if reason is None:
            todo.append((file, doc_id))
        else:
            result.skipped.append(LoadFailure(path=doc_id, error=reason))

    def load(item: tuple[Path, str]) -> Document | LoadFailure:
        try:
            return load_file(item[0], item[1], max_bytes, limits)
        except DocumentError as exc:
            return LoadFailure(path=item[1], error=str(exc))

    with ThreadPoolExecutor(max(1, limits.workers)) as pool:
        for outcome in pool.map(load, todo):
            (result.documents if isinstance(outcome, Document) else result.failures).append(outcome)  # type: ignore[arg-type]
    return result


def _jsonl_result(source: Path, max_bytes: int) -> LoadResult:
    documents, failures = load_jsonl(source, max_bytes)
    return LoadResult(documents=documents, failures=failures)


def load_file(path: Path, doc_id: str, max_bytes: int = 20_000_000, limits: ParseLimits | None = None) -> Document:
    """Load one file; raises `DocumentError` with a short reason (the caller adds the path). `limits` bound the
    parse (default: ParseLimits()); pass `ParseLimits(memory_mb=0, ...)` for no address-space limit."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise DocumentError(f"unsupported file type ({ext or 'no extension'})")
    data = read_bounded(path, max_bytes)
    if not data.strip():
        raise DocumentError("empty file")
    parsed = parse_isolated(ext, data, limits or ParseLimits())
    text, url, pages = _finish(parsed)
    if not text:
        raise DocumentError("no extractable text (scanned PDF?)" if ext == ".pdf" else "empty file")
    sha256 = hashlib.sha256(data).hexdigest()
    return Document(doc_id, pick_title(parsed.title, text, path.stem), text, url, sha256, str(path.resolve()), pages)


def _finish(parsed: Parsed) -> tuple[str, str | None, tuple[tuple[int, int], ...]]:
    """(text without the "Original url:" trailer, its URL, the page starts that still fall inside the text)."""
    text, url = split_trailer(parsed.text)
    shift = len(parsed.text) - len(parsed.text.lstrip())
    pages = tuple((max(0, offset - shift), page) for offset, page in parsed.pages if offset - shift < len(text))
    return text, url, pages


def read_bounded(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file, at most `max_bytes` (DocumentError otherwise): opened without blocking, so a
    FIFO or a device never hangs the reader, and checked on the opened file itself."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise DocumentError(f"cannot read file ({exc.strerror or exc})") from exc
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd)
        if not stat.S_ISREG(mode.st_mode):
            raise DocumentError(f"not a regular file ({_kind(mode.st_mode)})")
        if mode.st_size > max_bytes:
            raise DocumentError(f"file too large ({_mb(mode.st_size)} MB > {_mb(max_bytes)} MB limit)")
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise DocumentError(f"cannot read file ({exc.strerror or exc})") from exc
    if len(data) > max_bytes:
        raise DocumentError(f"file too large (more than {_mb(max_bytes)} MB limit)")
    return data


def _mb(n: int) -> str:
    return (f"{n / 1e6:.1f}" if n >= 1_000_000 else f"{n / 1e6:.2g}").removesuffix(".0")
