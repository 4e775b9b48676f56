"""What a chunk of an index looks like to a reader: boilerplate, run-together words, words broken at line ends,
control characters. Used by bench/real_docs.py on the chunks an index really holds (read from its Chroma store).

A chunk is
- "boilerplate" when at least half of its non-empty lines are chrome: 3 characters or fewer, a dot-leader line,
  a pilcrow, a known navigation string ("Show Source", "Next", "Table of Contents", ...), or a short line (80
  characters or fewer) that occurs 3 times or more in its document once digits are normalised (running headers,
  page numbers, repeated navigation). A line indented by two spaces or more is a code or program-output line
  ("  A D", a tutorial's example output): its length and its repeats do not make it chrome (2026-11-26; before,
  one tutorial chunk of example output was counted as boilerplate). Lines are counted on the document text
  rebuilt from its chunks (chunks overlap by a sentence; the overlap is counted once);
- "run-together" when it holds a word of 25 letters or more (all lower-case, Title or upper-case: not a camelCase
  identifier) that its source file does not hold, or, when the source's own words are known (pdftotext for a
  PDF, lxml for HTML, the DOCX's w:t text, the raw text), a word absent from the source that splits into two of
  its words ("ifthe", "theyare");
- "broken" when a lower-case word is split by a hyphen at a line end ("vari-\\nables");
- "junk" when it holds control characters, U+FFFE/U+FFFF or ligatures.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from collections import Counter
from pathlib import Path

CHROME = {"show source", "table of contents", "navigation", "previous topic", "next topic", "this page",
          "report a bug", "quick search", "index", "modules", "next", "previous", "prev", "up", "home", "contents",
          "search", "«", "»", "|"}
DOT_LEADER = re.compile(r"(?:\.\s?){4,}\s{0,4}\S{0,8}$")
DIGITS = re.compile(r"\d+")
TOKEN = re.compile(r"[A-Za-z]+")
BROKEN = re.compile(r"[a-z]-\n[a-z]")
JUNK = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ufb00-\ufb06]")


def source_words(path: Path) -> set[str] | None:
    """Lower-case words of the file read by a reader independent of rag; None when that reader is missing."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".pdf":
            if shutil.which("pdftotext") is None:
                return None
            text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                                  check=True, timeout=300).stdout.decode("utf-8", "replace")
            text += "\n" + re.sub(r"(\w)-\n(\w)", r"\1\2", text)
        elif suffix in (".html", ".htm"):
            from lxml import html

            text = html.document_fromstring(path.read_bytes()).text_content()
        elif suffix == ".docx":
            with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
                xml = archive.read("word/document.xml").decode("utf-8", "replace")
            text = " ".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", xml))
        else:
            text = re.sub(r"\x1b\[[0-9;]*m|.\x08", "", path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, subprocess.SubprocessError, zipfile.BadZipFile, KeyError, ValueError):
        return None
    return {w.lower() for w in TOKEN.findall(text)}


def long_glued(token: str, source: set[str] | None) -> bool:
    """A word of 25+ letters that is not an identifier and that the source does not hold."""
    if len(token) < 25 or not (token.islower() or token.istitle() or token.isupper()):
        return False
    return source is None or token.lower() not in source


def fused(token: str, source: set[str] | None) -> bool:
    if long_glued(token, source):
        return True
    low = token.lower()
    if source is None or low in source or len(token) < 5 or not token.islower():
        return False
    return any(low[:i] in source and low[i:] in source for i in range(2, len(low) - 1))


def document_text(chunks: list[tuple[int, int, str]]) -> str:
    """The document text its chunks cover, each character once (chunks overlap by a sentence)."""
    out, end = [], 0
    for start, stop, text in sorted(chunks):
        if stop > end:
            out.append(text[max(0, end - start):] if start < end else ("\n" if out else "") + text)
            end = stop
    return "".join(out)


def line_key(line: str) -> str:
    return DIGITS.sub("#", " ".join(line.lower().split()))


class Classifier:
    """Classifies the chunks of one document against its repeated lines and its source's words."""

    def __init__(self, chunks: list[tuple[int, int, str]], source: set[str] | None) -> None:
        lines = [x.strip() for x in document_text(chunks).split("\n") if x.strip()]
        self.repeats = Counter(line_key(x) for x in lines if len(x) <= 80)
        self.source = source

    def boilerplate(self, text: str) -> bool:
        raw = [x for x in text.split("\n") if x.strip()]
        lines = [x.strip() for x in raw]
        chrome = sum(1 for x, r in zip(lines, raw) if DOT_LEADER.search(x) or "\u00b6" in x or x.lower() in CHROME
                     or (not r.startswith("  ") and self._short_or_repeated(x)))
        return bool(lines) and chrome >= 0.5 * len(lines)

    def _short_or_repeated(self, line: str) -> bool:
        return len(line) <= 3 or (len(line) <= 80 and self.repeats[line_key(line)] >= 3)

    def classify(self, text: str) -> dict[str, bool | list[str]]:
        tokens = TOKEN.findall(text)
        glued = [t for t in tokens if fused(t, self.source)]
        return {
            "boilerplate": self.boilerplate(text),
            "run_together": bool(glued),
            "long_words": [t for t in tokens if long_glued(t, self.source)],
            "glued": glued,
            "broken": bool(BROKEN.search(text)),
            "junk": bool(JUNK.search(text)),
        }
