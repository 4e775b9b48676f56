"""A BEIR-style ``corpus.jsonl`` (one ``{"_id", "title", "text", "url"?}`` per line) -> `Document`s, and the two
text rules every document shares: the "Original url:" trailer and the title fallback.

    load_jsonl(path, max_bytes) -> (documents, failures)     each bad line is a failure "NAME:LINE"
    jsonl_lines(path, max_bytes)                              the same one line at a time (ingestion streams it)
    split_trailer(text) -> (text, url | None)
    pick_title(title, text, fallback) -> str

The file is read line by line, each line at most `max_bytes` (the per-file limit): a longer line is skipped and
named without being held in memory, so a huge line cannot hang or flood ingestion.

Not here: files in folders (rag.documents), parsing formats (rag.parsers).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.errors import DocumentError
from rag.types import Document, LoadFailure

_TITLE_MAX_CHARS = 200
_NEWLINE = re.compile(r"\r\n|\r|\n")
_URL_LINE = re.compile(r"^\s*Original url:\s*(.*)$", re.IGNORECASE)
_SKIP_STEP = 1 << 20


def split_trailer(raw_text: str) -> tuple[str, str | None]:
    """(text before the LAST "Original url:" line, URL) or (text, None); text stripped. The URL is the rest
    of that line + the next lines up to a blank one, stripped and joined with no separator (hard wraps)."""
    lines = _NEWLINE.split(raw_text)
    for i in range(len(lines) - 1, -1, -1):
        if (match := _URL_LINE.match(lines[i])) is None:
            continue
        parts = [match.group(1).strip()]
        for line in lines[i + 1 :]:
            if not line.strip() and any(parts):
                break
            parts.append(line.strip())
        return "\n".join(lines[:i]).strip(), "".join(parts) or None
    return "\n".join(lines).strip(), None


def pick_title(title: str, text: str, fallback: str) -> str:
    """`title`, else the first non-empty line of `text`, else `fallback`; whitespace collapsed, capped."""
    for candidate in (title, *text[:100_000].split("\n", 1000), fallback):
        if candidate.strip():
            return " ".join(candidate[:2000].split())[:_TITLE_MAX_CHARS]
    return fallback


def load_jsonl(path: Path, max_bytes: int = 20_000_000) -> tuple[list[Document], list[LoadFailure]]:
    """One document per line; blank lines skipped; each bad line becomes a failure "NAME:LINE"."""
    documents: list[Document] = []
    failures: list[LoadFailure] = []
    for _, item, _ in jsonl_lines(path, max_bytes):
        (documents if isinstance(item, Document) else failures).append(item)  # type: ignore[arg-type]
    return documents, failures


def jsonl_lines(path: Path, max_bytes: int) -> Iterator[tuple[int, Document | LoadFailure, int]]:
    """(line number, the line's Document or a LoadFailure "NAME:LINE", bytes read so far), blank lines skipped;
    a duplicate id or a line over `max_bytes` is a failure, and the long line is skipped without being held."""
    seen: set[str] = set()
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, the generator may be abandoned
    except OSError as exc:
        yield 0, LoadFailure(path.name, f"cannot read file ({exc.strerror or exc})"), 0
        return
    with handle:
        number, offset = 0, 0
        while raw := handle.readline(max_bytes + 1):
            number += 1
            offset += len(raw)
            try:
                if len(raw) > max_bytes and not raw.endswith(b"\n"):
                    while (rest := handle.readline(_SKIP_STEP)) and not rest.endswith(b"\n"):
                        offset += len(rest)
                    offset += len(rest)
                    raise DocumentError(f"line {number} is longer than the {max_bytes / 1e6:g} MB limit "
                                        f"(RAG_MAX_FILE_MB)")
                if not raw.strip():
                    continue
                document = jsonl_document(raw, number)
                if document.id in seen:
                    raise DocumentError(f'duplicate id "{document.id}" on line {number}')
                seen.add(document.id)
                yield number, document, offset
            except DocumentError as exc:
                yield number, LoadFailure(f"{path.name}:{number}", str(exc)), offset


def jsonl_document(raw: bytes, number: int) -> Document:
    try:
        record: Any = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DocumentError(f"not UTF-8 text on line {number}") from exc
    except (json.JSONDecodeError, RecursionError) as exc:
        raise DocumentError(f"invalid JSON on line {number}") from exc
    if not isinstance(record, dict):
        raise DocumentError(f"line {number} is not a JSON object")
    raw_id, raw_text = record.get("_id", record.get("id")), record.get("text")
    if raw_id is None or not str(raw_id).strip():
        raise DocumentError(f'missing "_id"/"id" on line {number}')
    if not isinstance(raw_text, str):
        raise DocumentError(f'missing "text" on line {number}')
    title, url = record.get("title"), record.get("url")
    title = title if isinstance(title, str) else ""
    url = url.strip() if isinstance(url, str) and url.strip() else None
    text, trailer_url = split_trailer(raw_text)
    if not text:
        raise DocumentError(f"empty text on line {number}")
    sha256 = hashlib.sha256(f"{title}\n{raw_text}\n{url or ''}".encode()).hexdigest()
    doc_id = str(raw_id)
    return Document(doc_id, pick_title(title, text, doc_id), text, url or trailer_url, sha256)
