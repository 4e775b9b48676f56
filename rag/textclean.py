"""Character-level cleaning shared by all loaders, and titles for plain-text/Markdown files.

`clean_text` removes what a terminal or a PDF producer leaves in text but a reader never sees: ANSI/VT100
escape sequences (CSI, OSC, two-byte ESC codes, 8-bit CSI), man-page overstrike (``N\\bN`` bold, ``_\\bX``
underline), other C0/C1 control characters (tab and newline kept; form feed and CR become newlines),
U+FFFE/U+FFFF/BOM, and it maps the Latin ligatures U+FB00-FB06 to letters (NFKC on those code points only)
and a few ASCII look-alikes that troff/groff emit (U+2212 minus, U+2010/2011 hyphens, U+02DC tilde, U+02C6
circumflex) to ASCII. Everything else is kept verbatim (no NFKC on the whole text: it would rewrite ², ½, ™...).

`clean_title` turns one candidate title line (Markdown/HTML/reST) into plain text: no tags, no images or
badges, link text kept, emphasis and heading markers dropped; "" when nothing readable is left.
`text_title` picks the title of a whole plain-text/Markdown document with `clean_title`.

Does not: guess encodings (input is str), strip Markdown markup from the body, or detect boilerplate.
All regular expressions are linear-time (bounded repeats, no nested quantifiers); see tests/test_regex_bounds.py.
"""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = ["clean_text", "clean_title", "text_title", "fix_chars"]

# ESC [ params intermediates final | ESC ] ... BEL/ST | ESC + one char | 8-bit CSI
_ANSI = re.compile(
    r"\x1b\[[0-?]{0,64}[ -/]{0,8}[@-~]"
    r"|\x1b\][^\x07\x1b]{0,4096}(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]{0,4096}(?:\x1b\\)?"
    r"|\x1b[ -/]{0,4}[0-~]"
    r"|\x9b[0-?]{0,64}[ -/]{0,8}[@-~]"
)
_OVERSTRIKE = re.compile(r"[^\n\x08]\x08")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufeff\ufffe\uffff]")
_NEWLINES = re.compile(r"\r\n?|\f|\v|\u2028|\u2029|\x85")
_LOOKALIKES = {0x2212: "-", 0x2010: "-", 0x2011: "-", 0x02DC: "~", 0x02C6: "^", 0x00A0: " "}
_LIGATURES = {cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(0xFB00, 0xFB07)}
_CHAR_MAP = {**_LOOKALIKES, **_LIGATURES}

_TAG = re.compile(r"<[A-Za-z/!?][^<>]{0,2000}>")
_IMAGE = re.compile(r"!\[[^\[\]\n]{0,500}\](?:\([^()\n]{0,2000}\)|\[[^\[\]\n]{0,200}\])")
_EMPTY_LINK = re.compile(r"\[\s{0,20}\](?:\([^()\n]{0,2000}\)|\[[^\[\]\n]{0,200}\])")
_LINK = re.compile(r"\[([^\[\]\n]{1,500})\](?:\([^()\n]{0,2000}\)|\[[^\[\]\n]{0,200}\])")
_URL = re.compile(r"\(?\b(?:https?|ftp)://[^\s<>]{0,2000}")
_HEADING_MARK = re.compile(r"^\s{0,3}#{1,6}(?:\s+|$)|(?<=\S)\s+#{1,20}\s*$")
_EMPHASIS = re.compile(r"[*_`~]{1,3}(?!\w)|(?<!\w)[*_`~]{1,3}")
_RULE = re.compile(r"^\s{0,3}([=\-~^*#+_`:.'\"])\1{2,400}\s*$")  # reST/Markdown underline or rule
_UNDERLINE = re.compile(r"^([=\-~^*#+_`:.'\"])\1{2,400}$")  # under a reST/setext heading (stripped line)
_HTML_HEADING = re.compile(r"<h([1-6])\b", re.I)
_MAN_HEADER = re.compile(r"^([\w.+-]{1,60})\(\w{1,8}\)\s.{0,200}\s\1\(\w{1,8}\)$")
_MODELINE = re.compile(r"-\*-[^\n]{0,200}?-\*-")
_IMG_ALT = re.compile(
    r"""<img\b[^<>]{0,2000}?\balt\s{0,5}=\s{0,5}["']([^"'<>]{0,200})["'][^<>]{0,2000}?(?:src\s{0,5}=\s{0,5}["']([^"'<>]{0,2000}))?"""
    r"|!\[([^\[\]\n]{0,200})\]\(([^()\n]{0,2000})\)", re.I)
_LOGO_WORD = re.compile(r"logo(?:type)?", re.I)
_BADGE_WORDS = ("badge", "shields.io", "travis", "codecov", "coverage", "/workflows/", "/actions", "pypi", "downloads",
                "build", "status", "version", "license", "licence", "discord", "twitter", "gitter", "donate", "paypal",
                "sponsor", "readthedocs.org/projects", "python versions")
_SPACES = re.compile(r"\s+")
_HAS_WORD = re.compile(r"[^\W_]")
_TITLE_MAX = 200
_TITLE_SCAN_LINES = 400


def fix_chars(text: str) -> str:
    """Ligatures and troff look-alikes to plain letters/ASCII; U+FFFE/U+FFFF/BOM and C0/C1 controls removed."""
    return _CONTROLS.sub("", text.translate(_CHAR_MAP))


def clean_text(text: str) -> str:
    """Text as a reader sees it: escape sequences, overstrike and control characters gone, "\\n" newlines."""
    if "\x1b" in text or "\x9b" in text:
        text = _ANSI.sub("", text)
    if "\x08" in text:
        text = _OVERSTRIKE.sub("", text)
    return fix_chars(_NEWLINES.sub("\n", text))


def clean_title(line: str) -> str:
    """One candidate title line as plain text, or "" when it holds nothing readable (image, badge, tag, rule)."""
    text = clean_text(line).replace("\n", " ")
    if _RULE.match(text):
        return ""
    text = _MODELINE.sub(" ", text)
    text = _IMAGE.sub(" ", text)
    text = _EMPTY_LINK.sub(" ", text)
    text = _LINK.sub(r"\1", text)
    text = _TAG.sub(" ", text)
    text = _URL.sub(" ", text)
    text = html.unescape(text)
    text = _HEADING_MARK.sub(" ", text)
    text = _EMPHASIS.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    if not _HAS_WORD.search(text):
        return ""
    return text[:_TITLE_MAX].rstrip()


def _without_html_comments(text: str) -> str:
    out, pos = [], 0
    while (start := text.find("<!--", pos)) >= 0:
        out.append(text[pos:start])
        end = text.find("-->", start + 4)
        if end < 0:
            return "".join(out)
        out.append("\n" * text.count("\n", start, end))
        pos = end + 3
    out.append(text[pos:])
    return "".join(out)


def _logo_alt(line: str) -> str:
    """Alt text of the first non-badge image on the line ("" if none): READMEs put the name in the logo."""
    for match in _IMG_ALT.finditer(line):
        alt = match.group(1) or match.group(3) or ""
        url = match.group(2) or match.group(4) or ""
        if alt.strip() and not any(word in f"{alt} {url}".lower() for word in _BADGE_WORDS):
            name = _LOGO_WORD.sub(" ", alt).strip(" -_")
            name = name[: -len("library")].strip(" -_") if name.lower().endswith("library") else name
            if name := clean_title(name):
                return name
    return ""


def _man_name(lines: list[str], start: int) -> str:
    """For a formatted man page, the line after its NAME heading ("grep - print lines that match patterns")."""
    for i in range(start, min(len(lines) - 1, start + 20)):
        if lines[i].strip() == "NAME":
            return next((clean_title(x) for x in lines[i + 1:i + 4] if x.strip()), "")
    return ""


def text_title(text: str) -> str:
    """Title of a plain-text/Markdown/reST document, "" if none. In order: its first level-1 heading with text
    (``# T``, ``T`` over ``===``/``***``, ``<h1>T</h1>``); a man page's NAME line; the alt text of a logo image
    (badges skipped) standing before any text; its first readable line. Fenced code and HTML comments are
    skipped."""
    lines = _without_html_comments(clean_text(text)).split("\n")[:_TITLE_SCAN_LINES]
    first_line = logo = ""
    fence = ""
    for i, raw in enumerate(lines):
        stripped = raw.strip()
        if fence:
            fence = "" if stripped.startswith(fence) else fence
            continue
        if stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
            continue
        if not stripped:
            continue
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        level = 0
        if stripped.startswith("#"):
            hashes = len(stripped) - len(stripped.lstrip("#"))
            level = hashes if hashes <= 6 and stripped[hashes:hashes + 1] in (" ", "\t", "") else 0
        elif (m := _HTML_HEADING.match(stripped)) is not None:
            level = int(m.group(1))
            block = " ".join(lines[i:i + 12])
            end = block.lower().find("</h")
            raw = block[: end + 5] if end >= 0 else raw
            if level == 1 and not clean_title(raw) and (alt := _logo_alt(raw)):
                return alt
        elif (m := _UNDERLINE.match(nxt)) and len(nxt) >= min(len(stripped), 3) and not _RULE.match(stripped):
            level = 1 if m.group(1) in "=*#" else 2
        elif not first_line and _MAN_HEADER.match(stripped):
            if name := _man_name(lines, i + 1):
                return name
        title = clean_title(raw)
        if level == 1 and title:
            return title
        if not first_line and not logo and not title:
            logo = _logo_alt(raw)
        if title and not first_line and not _RULE.match(raw):
            first_line = title
    return logo or first_line
