"""One file's bytes -> `Parsed` (title, text, where each page starts), by format, in this process.

    parse(ext, data, on_progress=None) -> Parsed       ValueError(reason) for a file it cannot read

- .txt/.md/.markdown: UTF-8 (a BOM allowed; a binary-looking file is refused), then `clean_text` (ANSI escapes,
  man-page overstrike and control characters removed); the title from `text_title` (the first level-1 heading,
  a man page's NAME line, a README's logo, else the first readable line);
- .html/.htm: `rag.html_text` (the main content, inline elements inline, code blocks whole, the h1 as title);
- .pdf: `rag.pdf_text`; the pages are joined by a blank line and each page's start offset in the text is kept,
  so a passage knows its page. Contents and index pages (dot leaders, page-number columns) are left out of the
  text (`left_out`): they are navigation, they would fill the top of a keyword search and they never answer a
  question. A PDF made only of such pages keeps them;
- .docx: the archive is checked first (`check_zip`: at most 5,000 parts, 200 MB expanded and a ratio of 100 per
  part, from the sizes the archive declares, which Python's zipfile also holds the decompression to), then
  `rag.docx_text` (tables as rows, headers and footers with content, content controls).

It imports only the loader modules (rag.html_text, rag.pdf_text, rag.docx_text, rag.textclean), so that the
worker process of rag.isolation loads nothing else. Not here: time and memory limits (rag.isolation); files,
paths, ids and the "Original url:" trailer (rag.documents).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

PLAIN = (".txt", ".md", ".markdown")
HTML = (".html", ".htm")
MAX_ZIP_PARTS = 5000
MAX_UNZIPPED_BYTES = 200_000_000
MAX_ZIP_RATIO = 100
_SNIFF_BYTES = 8192
_MAX_NONTEXT_RATIO = 0.30
_TEXT_BYTES = bytes(range(0x20, 0x7F)) + b"\t\n\r\f\b\x1b" + bytes(range(0x80, 0x100))


@dataclass
class Parsed:
    """What a file holds: `pages` is [(offset in text, page number), ...] in order (empty when the format has
    no pages); `left_out` the page numbers kept out of the text (contents, index)."""

    title: str
    text: str
    pages: list[tuple[int, int]] = field(default_factory=list)
    left_out: list[int] = field(default_factory=list)


def parse(ext: str, data: bytes, on_progress: Callable[[int], None] | None = None) -> Parsed:
    """Parse `data` as a file with extension `ext`; `on_progress(n)` is called as parts (PDF pages) are read."""
    from rag.textclean import clean_text, text_title

    ext = ext.lower()
    if (ext in PLAIN or ext in HTML) and looks_binary(data):
        raise ValueError("binary file under a text extension")
    if ext in PLAIN:
        text = clean_text(_decode_utf8(data))
        return Parsed(text_title(text), text)
    if ext in HTML:
        from rag.html_text import parse_html

        title, text = parse_html(data)
        return Parsed(title, text)
    if ext == ".pdf":
        return _pdf(data, on_progress)
    if ext == ".docx":
        from rag.docx_text import parse_docx

        check_zip(data)
        title, text = parse_docx(data)
        return Parsed(title, text)
    raise ValueError(f"unsupported file type ({ext or 'no extension'})")


def _pdf(data: bytes, on_progress: Callable[[int], None] | None) -> Parsed:
    from rag.pdf_text import parse_pdf

    result = parse_pdf(data, on_progress)
    numbered = [(n, page) for n, page in enumerate(result.pages, start=1) if page.strip()]
    kept = [(n, page) for n, page in numbered if n not in result.skip_pages] or numbered
    pieces, pages, offset = [], [], 0
    for n, page in kept:
        pages.append((offset, n))
        pieces.append(page)
        offset += len(page) + 2
    left_out = sorted(n for n, _ in numbered if n not in {k for k, _ in kept})
    return Parsed(result.title, "\n\n".join(pieces), pages, left_out)


def check_zip(data: bytes) -> None:
    """Refuse an archive that would expand too far (a zip bomb), judged on its directory before decompressing."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise ValueError("corrupt DOCX (not a valid ZIP archive)") from exc
    if len(parts) > MAX_ZIP_PARTS:
        raise ValueError(f"DOCX archive has {len(parts):,} parts (more than {MAX_ZIP_PARTS:,}): not parsed")
    expanded = sum(part.file_size for part in parts)
    if expanded > MAX_UNZIPPED_BYTES:
        raise ValueError(f"DOCX archive expands to {expanded / 1e6:,.0f} MB (more than "
                         f"{MAX_UNZIPPED_BYTES / 1e6:.0f} MB): a zip bomb? not parsed")
    for part in parts:
        if part.file_size > 1_000_000 and part.file_size > MAX_ZIP_RATIO * max(part.compress_size, 1):
            ratio = part.file_size / max(part.compress_size, 1)
            raise ValueError(f"DOCX part {part.filename[:60]!r} expands {ratio:,.0f} times (more than "
                             f"{MAX_ZIP_RATIO}): a zip bomb? not parsed")


def looks_binary(data: bytes) -> bool:
    head = data[:_SNIFF_BYTES]
    return b"\x00" in head or len(head.translate(None, _TEXT_BYTES)) > _MAX_NONTEXT_RATIO * len(head)


def _decode_utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from exc
