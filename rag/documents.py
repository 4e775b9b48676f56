"""Load a corpus (a folder, one file, or a BEIR-style ``.jsonl``) into `Document`s.

Handles .txt/.md/.markdown as UTF-8 (BOM allowed, markdown kept as is), .html/.htm via BeautifulSoup+lxml
(script/style/nav/header/footer dropped), .pdf via pypdf (empty-password encryption is opened; AES needs the
``cryptography`` package), .docx via python-docx (body paragraphs and tables), and a trailing "Original url:"
block, which becomes `Document.url`. Text stays verbatim apart from "\\n" newlines and stripped outer
whitespace, so character offsets into it are stable. Bad files become `LoadFailure`s, never exceptions.

Does not handle: OCR of scanned PDFs, password-protected PDFs, .doc/.rtf/.odt/.epub, charset guessing for
plain text, markdown front matter, DOCX headers/footers/footnotes/text boxes, .jsonl files inside a folder.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import DocumentError
from rag.types import Document, LoadFailure

if TYPE_CHECKING:
    from docx.table import Table

# The parsers (bs4 + lxml, pypdf, python-docx) are imported by the functions that use them: a question never
# loads them (about 0.2 s of a cold `rag ask`).

SUPPORTED_EXTENSIONS = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")

_PLAIN = (".txt", ".md", ".markdown")
_HTML = (".html", ".htm")
_DROPPED_HTML_TAGS = ("script", "style", "nav", "header", "footer", "noscript", "template")
_TITLE_MAX_CHARS = 200
_SNIFF_BYTES = 8192
_MAX_NONTEXT_RATIO = 0.30
_TEXT_BYTES = bytes(range(0x20, 0x7F)) + b"\t\n\r\f\b\x1b" + bytes(range(0x80, 0x100))
_NEWLINE = re.compile(r"\r\n|\r|\n")
_URL_LINE = re.compile(r"^\s*Original url:\s*(.*)$", re.IGNORECASE)
_MD_HEADING = re.compile(r"^ {0,3}#[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_BLANK_RUNS = re.compile(r"\n{3,}")


@dataclass
class LoadResult:
    documents: list[Document]
    failures: list[LoadFailure]


def iter_corpus_files(root: Path) -> list[Path]:
    """The supported files under `root`, recursively, skipping hidden files and folders, sorted."""
    root = Path(root)
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        visible = (name for name in filenames if not name.startswith("."))
        found += [Path(dirpath) / n for n in visible if Path(n).suffix.lower() in SUPPORTED_EXTENSIONS]
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def load_corpus(path: str | Path, max_bytes: int = 20_000_000) -> LoadResult:
    """Load a folder (recursively), a single supported file, or a BEIR ``.jsonl``, collecting failures."""
    source = Path(path)
    if not source.exists():
        raise DocumentError(f"corpus not found: {path}")
    if source.is_file() and source.suffix.lower() == ".jsonl":
        return _load_jsonl(source)
    result = LoadResult(documents=[], failures=[])
    base = source if source.is_dir() else source.parent
    for file in iter_corpus_files(source) if source.is_dir() else [source]:
        doc_id = file.relative_to(base).as_posix()
        try:
            result.documents.append(load_file(file, doc_id, max_bytes))
        except DocumentError as exc:
            result.failures.append(LoadFailure(path=doc_id, error=str(exc)))
    return result


def load_file(path: Path, doc_id: str, max_bytes: int = 20_000_000) -> Document:
    """Load one file; raises `DocumentError` with a short reason (the caller adds the path)."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise DocumentError(f"unsupported file type ({ext or 'no extension'})")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(f"file too large ({_mb(size)} MB > {_mb(max_bytes)} MB limit)")
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read file ({exc.strerror or exc})") from exc
    if not data.strip():
        raise DocumentError("empty file")
    if (ext in _PLAIN or ext in _HTML) and _looks_binary(data):
        raise DocumentError("binary file under a text extension")
    if ext in _PLAIN:
        title, raw_text = "", _decode_utf8(data)
    elif ext in _HTML:
        title, raw_text = _parse_html(data)
    elif ext == ".pdf":
        title, raw_text = _parse_pdf(data)
    else:
        title, raw_text = _parse_docx(data)
    text, url = _split_trailer(raw_text)
    if not text:
        raise DocumentError("no extractable text (scanned PDF?)" if ext == ".pdf" else "empty file")
    if ext in (".md", ".markdown"):
        title = _markdown_heading(text)
    sha256 = hashlib.sha256(data).hexdigest()
    return Document(doc_id, _pick_title(title, text, path.stem), text, url, sha256, str(path.resolve()))


def _split_trailer(raw_text: str) -> tuple[str, str | None]:
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


def _pick_title(title: str, text: str, fallback: str) -> str:
    """`title`, else the first non-empty line of `text`, else `fallback`; whitespace collapsed, capped."""
    for candidate in (title, *text.split("\n"), fallback):
        if candidate.strip():
            return " ".join(candidate.split())[:_TITLE_MAX_CHARS]
    return fallback


def _markdown_heading(text: str) -> str:
    """The first level-1 ATX heading ("# Title"), or ""."""
    for line in text.split("\n"):
        if (match := _MD_HEADING.match(line)) and match.group(1).strip():
            return match.group(1)
    return ""


def _looks_binary(data: bytes) -> bool:
    head = data[:_SNIFF_BYTES]
    return b"\x00" in head or len(head.translate(None, _TEXT_BYTES)) > _MAX_NONTEXT_RATIO * len(head)


def _decode_utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from exc


def _mb(n: int) -> str:
    return (f"{n / 1e6:.1f}" if n >= 1_000_000 else f"{n / 1e6:.2g}").removesuffix(".0")


def _short_reason(exc: BaseException) -> str:
    reason = (str(exc).strip().splitlines() or [""])[0].strip().rstrip(".") or type(exc).__name__
    return reason if len(reason) <= 80 else reason[:77] + "..."


def _parse_html(data: bytes) -> tuple[str, str]:
    """(title from <title> or the first <h1>, text with one line per string and blank runs collapsed)."""
    from bs4 import BeautifulSoup

    try:
        soup = BeautifulSoup(data, "lxml")
        heads = [t.get_text(" ", strip=True) for t in (soup.title, soup.find("h1")) if t is not None]
        for tag in soup(_DROPPED_HTML_TAGS):
            tag.decompose()
        lines = [line.strip() for line in (soup.body or soup).get_text("\n").splitlines()]
    except Exception as exc:  # lxml/bs4 failures on pathological input
        raise DocumentError(f"unreadable HTML ({_short_reason(exc)})") from exc
    return next((h for h in heads if h), ""), _BLANK_RUNS.sub("\n\n", "\n".join(lines))


def _parse_pdf(data: bytes) -> tuple[str, str]:
    """(metadata title, page texts joined by a blank line)."""
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise FileNotDecryptedError("the empty password does not open it")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        title = str((reader.metadata.title if reader.metadata is not None else None) or "")
    except FileNotDecryptedError as exc:
        raise DocumentError("encrypted PDF") from exc
    except DependencyError as exc:  # AES encryption without the optional `cryptography` package
        raise DocumentError(f"encrypted PDF ({_short_reason(exc)})") from exc
    except Exception as exc:  # pypdf raises many types (PdfReadError, ValueError, KeyError, ...)
        raise DocumentError(f"corrupt PDF ({_pdf_problem(data, exc)})") from exc
    return title, "\n\n".join(text for text in pages if text)


def _pdf_problem(data: bytes, exc: Exception) -> str:
    """The lenient reader's errors are vague ("Stream has ended unexpectedly"); a strict one names causes."""
    from pypdf import PdfReader

    try:
        PdfReader(io.BytesIO(data), strict=True)
    except Exception as strict_exc:
        exc = strict_exc
    return _short_reason(exc)


def _parse_docx(data: bytes) -> tuple[str, str]:
    """(first Title/Heading paragraph, body paragraphs and tables in order joined by a blank line)."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        title, blocks = "", list[str]()
        for item in docx.Document(io.BytesIO(data)).iter_inner_content():
            if isinstance(item, Table):
                blocks.append(_table_text(item))
            elif isinstance(item, Paragraph) and item.text.strip():
                blocks.append(item.text)
                style = getattr(item.style, "name", "") or ""
                if not title and (style == "Title" or style.startswith("Heading")):
                    title = item.text
    except (zipfile.BadZipFile, PackageNotFoundError) as exc:
        raise DocumentError("corrupt DOCX (not a valid ZIP archive)") from exc
    except Exception as exc:  # missing parts, bad XML, ...
        raise DocumentError(f"corrupt DOCX ({_short_reason(exc)})") from exc
    return title, "\n\n".join(block for block in blocks if block)


def _table_text(table: Table) -> str:
    """One line per row, cell texts joined by " | "; merged cells (same <w:tc>) counted once."""
    rows = []
    for row in table.rows:
        cells = {id(cell._tc): " ".join(cell.text.split()) for cell in row.cells}
        if line := " | ".join(text for text in cells.values() if text):
            rows.append(line)
    return "\n".join(rows)


def _load_jsonl(path: Path) -> LoadResult:
    """One document per line; blank lines skipped; each bad line becomes a failure "NAME:LINE"."""
    result = LoadResult(documents=[], failures=[])
    seen: set[str] = set()
    try:
        raw_lines = path.read_bytes().split(b"\n")
    except OSError as exc:
        return LoadResult([], [LoadFailure(path.name, f"cannot read file ({exc.strerror or exc})")])
    for number, raw in enumerate(raw_lines, start=1):
        try:
            if not raw.strip():
                continue
            document = _jsonl_document(raw, number)
            if document.id in seen:
                raise DocumentError(f'duplicate id "{document.id}" on line {number}')
            seen.add(document.id)
            result.documents.append(document)
        except DocumentError as exc:
            result.failures.append(LoadFailure(f"{path.name}:{number}", str(exc)))
    return result


def _jsonl_document(raw: bytes, number: int) -> Document:
    try:
        record: Any = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DocumentError(f"not UTF-8 text on line {number}") from exc
    except json.JSONDecodeError as exc:
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
    text, trailer_url = _split_trailer(raw_text)
    if not text:
        raise DocumentError(f"empty text on line {number}")
    sha256 = hashlib.sha256(f"{title}\n{raw_text}\n{url or ''}".encode()).hexdigest()
    doc_id = str(raw_id)
    return Document(doc_id, _pick_title(title, text, doc_id), text, url or trailer_url, sha256)
