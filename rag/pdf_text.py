"""PDF bytes -> cleaned text per page (pdfminer.six layout analysis + our post-processing).

What it does, per document:
- extracts each page's text boxes with pdfminer.six (word spacing from glyph gaps, so groff/Ghostscript and
  LaTeX output do not run words together), boxes in pdfminer's reading order, one blank line between boxes;
- removes running headers/footers: boxes in the top/bottom band of the page (outer 12 %, top-most/bottom-most
  line only) whose text, with digits and roman numerals normalised, repeats in that band on >= 3 pages
  (2 for documents under 6 pages), page-number boxes ("12", "iv", "Page 3", "- 7 -", "3 of 9"), and any other
  box in a band slot (same height +-3 pt) that repeated text proved to be a running-header slot;
- puts lines that layout analysis cut apart back together (rag.pdf_lines): a definition list's hanging term with
  its text, the pieces of a justified line with a wide gap;
- joins words hyphenated at line ends (``vari-\\nables`` -> ``variables``) when the joined word occurs elsewhere
  in the document, or when neither form does and both halves are lower-case letters; keeps the hyphen
  otherwise (``US-\\nASCII`` -> ``US-ASCII``);
- keeps characters escaped without need in a PDF string (``\\{`` is ``{``, as the PDF spec says; pdfminer.six
  dropped them: see the escape table patch below);
- maps ligatures and troff look-alikes, drops control characters and pdfminer's ``(cid:N)`` placeholders;
- marks contents/index pages (mostly dot-leader lines, page-number columns or "term, 12" lines) in
  ``skip_pages`` (1-based), keeping their text in ``pages``;
- title: the document-information Title unless empty or a file name, else the largest-font line of page 1.

Does not: OCR scanned pages (they come back empty), repair reading order of complex multi-column layouts,
extract tables as tables, join words hyphenated across a page break, or enforce a time or memory limit
(pdfminer is pure Python, ~50-100 ms per page here: rag.isolation runs this in a worker process with limits).
"""

from __future__ import annotations

import io
import re
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from pdfminer.high_level import extract_pages
from pdfminer.layout import LAParams, LTChar, LTPage, LTTextContainer, LTTextLine
from pdfminer.pdfdocument import PDFDocument, PDFPasswordIncorrect
from pdfminer.pdfparser import PDFParser
from pdfminer import psparser
from pdfminer.psparser import PSException
from pdfminer.utils import decode_text

from rag.pdf_lines import Line, join_pieces
from rag.textclean import clean_title, fix_chars

__all__ = ["PdfText", "parse_pdf"]

# PDF 32000-1 7.3.4.2: in a literal string, a backslash before a character with no escape meaning is ignored and
# the character kept; pdfminer.six drops both (GNU parallel's tutorial writes "{}" as "(\\{\\})": all its braces
# were lost). Its escape table gets every such printable character, mapped to itself.
for _byte in range(0x20, 0x7F):
    if bytes((_byte,)) not in b"01234567":
        psparser.ESC_STRING.setdefault(bytes((_byte,)), _byte)

_BAND = 0.12
_SLOT_PT = 3.0
_TITLE_MAX = 200
_CID = re.compile(r"\(cid:\d{1,6}\)")
_DIGITS = re.compile(r"\d+")
_ROMAN_TOKEN = re.compile(r"(?<![^\W\d_])[ivxlcdm]{1,8}(?![^\W\d_])")
_PAGE_NUMBER = re.compile(
    r"^(?:page\s{0,3})?[-\u2013\u2014\s]{0,3}(?:\d{1,5}|[ivxlcdm]{1,8})(?:\s{0,3}(?:of|/)\s{0,3}\d{1,5})?"
    r"[-\u2013\u2014\s]{0,3}$", re.I)
# a word broken at a line end: left part, hyphen (ASCII, U+2010, soft), newline, right part + rest of its token
_HYPHEN_BREAK = re.compile(r"(?<!\w)(\w{1,60})[-\u2010\u00ad][ \t]{0,4}\n[ \t]{0,40}(\w{1,60})(\S{0,60})[ \t]?")
_HYPHEN_PREFIXES = frozenset({"non", "self", "cross", "multi", "semi", "well"})
_WORDS = re.compile(r"\w+(?:-\w+){0,8}")
_DOT_LEADER = re.compile(r"(?:\.\s?){4,}\s{0,4}(?:\d{1,5}|[ivxlcdm]{1,8})?\s{0,4}$", re.I)
_TOC_LINE = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){0,5}\.?|[A-Z]\.?|chapter\s{1,3}\d{1,3}|appendix\s{1,3}[A-Z])\s"
                       r"[^\n]{1,150}?\s(?:\d{1,5}|[ivxlcdm]{1,8})$", re.I)
_LONE_REF = re.compile(r"^(?:\.|\d{1,5}|[ivxlcdm]{1,8}|[A-Z])$", re.I)
_TOC_HEADING = re.compile(r"^(?:table of contents|contents|index|general index|\w{1,20} index)$", re.I)
_GENERIC_HEADINGS = frozenset({"NAME", "CONTENTS", "TABLE OF CONTENTS", "ABSTRACT", "INTRODUCTION", "PREFACE",
                                "INDEX", "SYNOPSIS", "DESCRIPTION"})
_INNER_SPACES = re.compile(r"(?<=\S)[ \t]{2,}(?=\S)")
_FILENAME_TITLE = re.compile(r"\.(?:dvi|tex|docx?|odt|pdf|ps|rtf|txt|html?|indd|qxd)$|^microsoft word\b|^untitled$",
                             re.I)


@dataclass
class PdfText:
    """Cleaned text of a PDF: `pages[n - 1]` is page n; `skip_pages` holds 1-based contents/index pages."""

    title: str
    pages: list[str]
    skip_pages: set[int] = field(default_factory=set)


@dataclass
class _Box:
    text: str
    y0: float
    y1: float
    lines: list[Line] = field(default_factory=list)


def parse_pdf(data: bytes, on_page: Callable[[int], None] | None = None) -> PdfText:
    """Text of every page, cleaned; ValueError("...") for a file that is not a readable PDF or has no text.
    `on_page(n)` is called after page n is read (the parse's progress, for a caller's time limit)."""
    if not data.startswith(b"%PDF") and b"%PDF" not in data[:1024]:
        raise ValueError("not a PDF (no %PDF header)")
    pages_boxes: list[list[_Box]] = []
    heights: list[float] = []
    first_line = ""
    try:
        meta_title = _metadata_title(data)
        for layout in extract_pages(io.BytesIO(data), laparams=LAParams()):  # streamed: one page in memory
            if not pages_boxes:
                first_line = _largest_line(layout)
            pages_boxes.append(_boxes(layout))
            heights.append(layout.height or 1.0)
            if on_page is not None:
                on_page(len(pages_boxes))
    except PDFPasswordIncorrect as exc:
        raise ValueError("encrypted PDF") from exc
    except (PSException, ValueError, KeyError, TypeError, AttributeError, IndexError, AssertionError,
            OSError, RecursionError, NotImplementedError, ZeroDivisionError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:70]
        raise ValueError(f"corrupt PDF ({reason or type(exc).__name__})") from exc
    if not pages_boxes:
        raise ValueError("PDF has no pages")
    _drop_running_lines(pages_boxes, heights)
    raw_pages = ["\n\n".join("\n".join(x.text for x in lines) for lines in join_pieces([b.lines for b in boxes]))
                 for boxes in pages_boxes]
    vocab = Counter(w.lower() for page in raw_pages for w in _WORDS.findall(page))
    pages = [_tidy(_join_hyphens(page, vocab)) for page in raw_pages]
    if not any(page.strip() for page in pages):
        raise ValueError("no extractable text (scanned PDF?)")
    skip = {i + 1 for i, page in enumerate(pages) if _is_contents_or_index(page)}
    return PdfText(title=_title(meta_title, first_line, pages), pages=pages, skip_pages=skip)


def _title(meta_title: str, largest_line: str, pages: list[str]) -> str:
    """Metadata title, else the largest-font line of page 1, else the first line; a man page's "NAME" heading
    is replaced by the line after it."""
    lines = [line.strip() for page in pages[:1] for line in page.split("\n") if line.strip()]
    for candidate in (meta_title, largest_line, lines[0] if lines else ""):
        title = clean_title(candidate)
        if title.upper() in _GENERIC_HEADINGS:
            if title.upper() == "NAME" and title in lines and lines.index(title) + 1 < len(lines):
                return clean_title(lines[lines.index(title) + 1])[:_TITLE_MAX]
            continue
        if title:
            return title[:_TITLE_MAX]
    return ""


def _metadata_title(data: bytes) -> str:
    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)))
    except PDFPasswordIncorrect:
        raise
    except Exception:  # noqa: BLE001 - the page pass reports real damage; a bad info dict only loses the title
        return ""
    for info in document.info or []:
        value = info.get("Title") if isinstance(info, dict) else None
        if hasattr(value, "resolve"):
            value = value.resolve()
        if isinstance(value, bytes):
            value = decode_text(value)
        if isinstance(value, str):
            title = " ".join(fix_chars(value).split())
            if title and not _FILENAME_TITLE.search(title):
                return title
    return ""


def _boxes(layout: LTPage) -> list[_Box]:
    boxes = []
    for element in layout:
        if isinstance(element, LTTextContainer):
            lines = [Line(_CID.sub("", x.get_text()).rstrip(), x.x0, x.x1, x.y0)
                     for x in (element if not isinstance(element, LTTextLine) else [element])
                     if isinstance(x, LTTextLine)]
            while lines and not lines[0].text.strip():
                lines.pop(0)
            while lines and not lines[-1].text.strip():
                lines.pop()
            if lines:
                boxes.append(_Box(text="\n".join(x.text for x in lines), y0=element.y0, y1=element.y1, lines=lines))
    return boxes


def _key(text: str) -> str:
    text = " ".join(text.lower().split())
    return _ROMAN_TOKEN.sub("#", _DIGITS.sub("#", text))


def _bands(boxes: list[_Box], height: float) -> tuple[list[_Box], list[_Box]]:
    """The top-most and bottom-most lines of the page (boxes sharing that line), if inside the outer band."""
    if not boxes:
        return [], []
    top_y = max(b.y1 for b in boxes)
    bottom_y = min(b.y0 for b in boxes)
    top = [b for b in boxes if b.y1 >= top_y - _SLOT_PT and b.y1 >= height * (1 - _BAND)]
    bottom = [b for b in boxes if b.y0 <= bottom_y + _SLOT_PT and b.y0 <= height * _BAND]
    return top, bottom


def _drop_running_lines(pages: list[list[_Box]], heights: list[float]) -> None:
    bands = [_bands(boxes, h) for boxes, h in zip(pages, heights, strict=True)]
    threshold = 3 if len(pages) >= 6 else 2
    doomed: set[int] = set()
    for side in (0, 1):
        counts = Counter(key for band in bands for key in {_key(b.text) for b in band[side]})
        proven_slots: Counter[int] = Counter()
        for band in bands:
            for box in band[side]:
                if _PAGE_NUMBER.match(box.text.strip()) or counts[_key(box.text)] >= threshold:
                    doomed.add(id(box))
                    proven_slots[round((box.y1 if side == 0 else box.y0) / _SLOT_PT)] += 1
        slots = {slot for slot, n in proven_slots.items() if n >= threshold}
        for band in bands:
            for box in band[side]:
                y = round((box.y1 if side == 0 else box.y0) / _SLOT_PT)
                if any(abs(y - s) <= 1 for s in slots) and len(box.text) <= 160:
                    doomed.add(id(box))
    for boxes in pages:
        boxes[:] = [b for b in boxes if id(b) not in doomed]


def _join_hyphens(text: str, vocab: Counter[str]) -> str:
    def join(match: re.Match[str]) -> str:
        left, right, rest = match.group(1), match.group(2), match.group(3)
        joined, hyphened = (left + right).lower(), f"{left}-{right}".lower()
        if vocab[joined] > vocab[hyphened] or (
                not vocab[hyphened] and left[-1:].islower() and right[:1].islower() and left.isalpha()
                and left.lower() not in _HYPHEN_PREFIXES):
            word = left + right
        else:
            word = f"{left}-{right}"
        return f"{word}{rest}\n"
    return _HYPHEN_BREAK.sub(join, text)


def _tidy(text: str) -> str:
    text = fix_chars(text)
    lines = [_INNER_SPACES.sub(" ", line.rstrip()) for line in text.split("\n")]
    out = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return out.strip()


def _is_contents_or_index(page: str) -> bool:
    lines = [line.strip() for line in page.split("\n") if line.strip()]
    if len(lines) < 6:
        return False
    refs = sum(1 for line in lines if _DOT_LEADER.search(line) or _ends_with_page_refs(line) or _LONE_REF.match(line))
    if refs >= 0.5 * len(lines):
        return True
    headed = any(_TOC_HEADING.match(line) for line in lines[:3])
    return headed and refs + sum(1 for line in lines if _TOC_LINE.match(line)) >= 0.3 * len(lines)


def _ends_with_page_refs(line: str) -> bool:
    """An index entry: "term, 12" / "term, 12, 40-41" (no regex: a ``,\\s*\\d+(...)*$`` pattern is quadratic)."""
    tail = line.rstrip()[-160:]
    term = tail.rstrip("0123456789 ,\u2013-")
    suffix = tail[len(term):]
    comma = suffix.find(",")
    return comma >= 0 and any(c.isdigit() for c in suffix[comma:]) and any(c.isalpha() for c in term)


def _largest_line(layout: LTPage) -> str:
    best, best_size = "", 0.0
    for element in layout:
        if not isinstance(element, LTTextContainer):
            continue
        for line in element:
            if not isinstance(line, LTTextLine):
                continue
            sizes = [ch.size for ch in line if isinstance(ch, LTChar)]
            text = " ".join(_CID.sub("", line.get_text()).split())
            if sizes and any(c.isalpha() for c in text):
                size = statistics.median(sizes)
                if size > best_size + 0.5:
                    best, best_size = text, size
    return best
