"""HTML page -> (title, plain text) for indexing, with lxml.

What it does:
- decodes the bytes (BOM, then a ``<meta charset>``/XML declaration in the first 4 KB, then UTF-8, then cp1252);
- picks the main content element: ``[role=main]`` (Sphinx basic/classic/alabaster/RTD/furo), ``<main>``,
  Sphinx ``div.body``, the longest ``<article>``, ``#content``/``#main-content``; a candidate holding under
  15 % of the page's text is ignored; with none, the whole ``<body>`` is used;
- always drops boilerplate inside what it keeps: scripts/styles, ``<nav>``/``<aside>``/``<header>``/``<footer>``
  at page level, ARIA navigation/search/banner/contentinfo regions, Sphinx sidebars/"related" bars/footer/
  pilcrow ``a.headerlink``/``[source]`` links, DocBook ``navheader``/``navfooter``, Texinfo ``nav-panel`` and
  ``div.header`` ("Next: ... Previous: ... Up: ...") blocks and copiable-anchor pilcrows, and in-page tables of
  contents (docutils ``.contents``, DocBook ``.toc``, Texinfo ``.region-contents``): on a DocBook chapter page
  that is only a TOC, little text is left, by design;
- writes block elements as paragraphs separated by one blank line, keeps inline elements (``<code>``, ``<a>``,
  ``<em>``, Sphinx signature spans) inside their line, keeps ``<pre>`` blocks verbatim as one block, writes a
  table row per line with cells joined by " | ", and ``<br>`` as a line break;
- title: the first ``<h1>`` of the main content (pilcrow dropped), else the first ``<h1>`` of the page, else
  ``<title>``.

What it does not do: run JavaScript, follow links/frames, keep image alt text, emit Markdown markup, or detect
boilerplate by text statistics (no readability scoring: rules only, so pages that are not documentation
and have no main-content element are kept whole minus the boilerplate listed above).
"""

from __future__ import annotations

import codecs
import re

from lxml import etree
from lxml import html as lxml_html

__all__ = ["parse_html"]

_SNIFF = 4096
_META_CHARSET = re.compile(rb"""<meta[^>]{0,512}?charset\s{0,8}=\s{0,8}["']?\s{0,8}([A-Za-z0-9_.:-]{1,40})""", re.I)
_XML_ENCODING = re.compile(rb"""^\s{0,64}<\?xml[^>]{0,200}?encoding\s{0,8}=\s{0,8}["']([A-Za-z0-9_.:-]{1,40})""", re.I)
_SPACES = re.compile(r"[ \t\n\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_MIN_MAIN_SHARE = 0.15
_TITLE_MAX = 200

_DROP_TAGS = ("script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed", "canvas",
              "button", "select", "input", "textarea", "head")
_DROP_CLASSES = frozenset({
    # Sphinx (basic, classic, nature, alabaster, RTD, furo, pydata, book)
    "headerlink", "sphinxsidebar", "sphinxsidebarwrapper", "related", "footer", "mobile-nav", "menu-wrapper",
    "inline-search", "searchbox", "viewcode-link", "viewcode-back", "wy-nav-side", "wy-side-scroll",
    "wy-nav-top", "rst-versions", "rst-footer-buttons", "sidebar-drawer", "toc-drawer", "bd-sidebar",
    "bd-header", "bd-footer", "prev-next-area", "edit-this-page", "copybtn", "breadcrumbs", "wy-breadcrumbs",
    # DocBook XSL, Texinfo (makeinfo), Doxygen, generic
    "navheader", "navfooter", "nav-panel", "copiable-link", "copiable-anchor", "toc", "contents", "region-contents",
    "shortcontents", "region-shortcontents", "navigation", "skip-link", "skiplink", "sr-only", "visually-hidden",
})
_DROP_ROLES = frozenset({"navigation", "search", "banner", "contentinfo", "complementary"})
_PAGE_CHROME = ("nav", "header", "footer", "aside")  # dropped anywhere when the whole body is used
_BLOCK = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "dialog", "dir",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hgroup", "hr", "html", "legend", "li", "main", "menu", "nav", "ol", "p", "section", "summary",
    "ul", "table", "noframes", "listing", "xmp", "plaintext",
})
_PRE = frozenset({"pre", "listing", "xmp", "plaintext"})
_CELL = frozenset({"td", "th"})


def parse_html(data: bytes) -> tuple[str, str]:
    """(title, text) of an HTML page; ValueError("...") when there is nothing to read (empty input, no text,
    or a tree libxml2 refused: it stops at nesting depth 256)."""
    if not data or not data.strip():
        raise ValueError("empty HTML")
    try:
        root = lxml_html.document_fromstring(data, parser=lxml_html.HTMLParser(encoding=_encoding(data)))
    except (etree.ParserError, ValueError) as exc:
        raise ValueError(f"unreadable HTML ({str(exc).strip()[:60] or type(exc).__name__})") from exc
    page_title = _clean_inline(root.findtext(".//title") or "")
    etree.strip_elements(root, etree.Comment, etree.ProcessingInstruction, *_DROP_TAGS, with_tail=False)
    _drop_boilerplate(root)
    _inline_footnote_labels(root)
    body = root.find("body")
    if body is None:
        body = root
    main = _main_element(body)
    if main is body:
        for element in [e for e in body.iter(*_PAGE_CHROME)]:
            if element.getparent() is not None:
                element.drop_tree()
    title = _first_h1(main) or _first_h1(body) or page_title
    text = _Writer().render(main)
    if not text:
        raise ValueError("no text in HTML")
    return title[:_TITLE_MAX], text


def _encoding(data: bytes) -> str:
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                      (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return name
    head = data[:_SNIFF]
    match = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    if match:
        try:
            name = codecs.lookup(match.group(1).decode("ascii")).name
            # pages that declare latin-1/ascii are cp1252 in practice (WHATWG); UTF-16 declared in ASCII bytes lies
            return {"latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252"}.get(name, name) \
                if not name.startswith("utf-16") else "utf-8"
        except LookupError:
            pass
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252"


def _classes(element: etree._Element) -> set[str]:
    return set((element.get("class") or "").split())


def _drop_boilerplate(root: etree._Element) -> None:
    doomed = []
    for element in root.iter(etree.Element):
        if not isinstance(element.tag, str):
            continue
        if (_classes(element) & _DROP_CLASSES or (element.get("role") or "").lower() in _DROP_ROLES
                or element.get("hidden") is not None or (element.get("aria-hidden") or "").lower() == "true"):
            doomed.append(element)
        elif element.tag == "div" and element.get("class") == "header" and _is_texinfo_nav(element):
            doomed.append(element)
    for element in doomed:
        if element.getparent() is not None:
            element.drop_tree()


def _inline_footnote_labels(root: etree._Element) -> None:
    """A docutils footnote's or citation's label ("7", "[7]") starts its text instead of standing alone as a
    paragraph: ``<dt class="label">`` + ``<dd><p>`` (docutils < 0.18) and ``<span class="label">`` + ``<p>``."""
    labels = [e for e in root.iter("dt", "span") if "label" in _classes(e) and e.getparent() is not None
              and _classes(e.getparent()) & {"footnote", "citation", "footnote-list"}]
    for label in labels:
        text = _clean_inline(label.text_content())
        target = label.getnext()
        if target is None or not text.strip("[]") or len(text) > 40:
            continue
        while not (target.text or "").strip() and len(target) and target[0].tag == "p":
            target = target[0]
        target.text = f"{text if text.startswith('[') else f'[{text}]'} {target.text or ''}"
        label.drop_tree()


def _is_texinfo_nav(element: etree._Element) -> bool:
    text = _clean_inline(element.text_content())
    return len(text) < 400 and ("Next:" in text or "Previous:" in text or "Up:" in text)


def _text_len(element: etree._Element) -> int:
    return len("".join(element.itertext()).split())


def _main_element(body: etree._Element) -> etree._Element:
    total = _text_len(body)
    selectors = (
        ".//*[@role='main']",
        ".//main",
        ".//div[contains(concat(' ', normalize-space(@class), ' '), ' body ')]",
        ".//article",
        ".//*[@id='content' or @id='main-content' or @id='main' or @itemprop='articleBody']",
    )
    for xpath in selectors:
        candidates = body.xpath(xpath)
        if not candidates:
            continue
        best = max(candidates, key=_text_len)
        if total and _text_len(best) >= _MIN_MAIN_SHARE * total:
            return best
    return body


def _first_h1(element: etree._Element) -> str:
    for h1 in element.iter("h1"):
        if text := _clean_inline(h1.text_content()).rstrip("\u00b6#").rstrip():
            return text
    return ""


def _clean_inline(text: str) -> str:
    return _SPACES.sub(" ", text.translate(_INVISIBLE)).strip()


class _Writer:
    """Serialises an element tree to paragraphs; iterative (deeply nested pages cannot overflow the stack)."""

    def __init__(self) -> None:
        self.paragraphs: list[str] = []
        self.lines: list[str] = []
        self.line: list[str] = []
        self.cell_depth = 0
        self.first_cell = True

    def render(self, top: etree._Element) -> str:
        walker = etree.iterwalk(top, events=("start", "end"))
        for event, element in walker:
            tag = element.tag if isinstance(element.tag, str) else ""
            if event == "start":
                if tag in _PRE:
                    self._pre(element.text_content())
                    walker.skip_subtree()  # its "end" event still comes
                    continue
                self._open(tag)
                self._inline(element.text)
            else:
                if tag not in _PRE:
                    self._close(tag)
                self._tail(element, top)
        self._end_paragraph()
        return "\n\n".join(self.paragraphs)

    def _tail(self, element: etree._Element, top: etree._Element) -> None:
        if element is not top:
            self._inline(element.tail)

    def _open(self, tag: str) -> None:
        if tag == "br":
            self._end_line()
        elif tag in _CELL:
            if self.cell_depth == 0 and not self.first_cell:
                self.line.append(" | ")
            self.first_cell = False
            self.cell_depth += 1
        elif tag == "tr":
            if self.cell_depth == 0:
                self._end_line()
                self.first_cell = True
        elif tag in _BLOCK:
            self._block_break()

    def _close(self, tag: str) -> None:
        if tag in _CELL:
            self.cell_depth = max(0, self.cell_depth - 1)
        elif tag == "tr":
            if self.cell_depth == 0:
                self._end_line()
        elif tag in _BLOCK:
            self._block_break()

    def _inline(self, text: str | None) -> None:
        if text:
            self.line.append(_SPACES.sub(" ", text.translate(_INVISIBLE)))

    def _block_break(self) -> None:
        if self.cell_depth:
            self.line.append(" ")
        else:
            self._end_paragraph()

    def _end_line(self) -> None:
        if self.cell_depth:
            self.line.append(" ")
            return
        line = _SPACES.sub(" ", "".join(self.line)).strip()
        self.line = []
        if line:
            self.lines.append(line)

    def _end_paragraph(self) -> None:
        self._end_line()
        if self.lines:
            self.paragraphs.append("\n".join(self.lines))
            self.lines = []

    def _pre(self, text: str) -> None:
        if self.cell_depth:
            self._inline(text)
            return
        self._end_paragraph()
        body = "\n".join(line.rstrip() for line in text.translate(_INVISIBLE).expandtabs(8).split("\n"))
        body = body.strip("\n")
        if body.strip():
            self.paragraphs.append(body)
