"""DOCX bytes -> (title, text): python-docx opens the package, our walk reads the WordprocessingML in order.

What it does:
- body blocks in document order, one blank line between blocks: paragraphs, tables, and the blocks inside
  content controls (``w:sdt``, e.g. template fields), ``w:customXml`` and tracked insertions (``w:ins``) -
  python-docx's ``iter_inner_content`` skips all of these; a Word table of contents (its ``w:sdt`` or
  "TOC n" paragraphs) is left out as navigation;
- tables: one line per row, cell texts joined by " | "; a horizontally merged cell counts once, a vertically
  merged continuation cell is skipped, nested tables are flattened into their cell's text; a one-column
  table (a framed box of paragraphs/code) is read as paragraphs;
- inside a paragraph: ``w:t`` text, tabs, line breaks, non-breaking hyphens; deleted text (``w:delText``),
  field instructions (``w:instrText``) and the ``mc:Fallback`` copy of drawings are skipped; text boxes are
  emitted as their own blocks after the paragraph that anchors them;
- headers/footers of all sections (default, first-page, even-page), de-duplicated, when they carry content
  (not just a page number/"Page X of Y"): headers before the body, footers after it;
- footnotes and endnotes after the body;
- title: core-properties title, else the first "Title" paragraph, else the first "Heading 1", else the first
  non-empty paragraph (cleaned, <= 200 chars).

Does not: render list numbering ("1.", "a)"), read comments, charts, SmartArt, embedded objects, .doc/.docm
macros, or images (no OCR).
"""

from __future__ import annotations

import io
import re
import zipfile

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.exceptions import PackageNotFoundError
from lxml import etree

from rag.textclean import clean_title, fix_chars

__all__ = ["parse_docx"]

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_WPS_TXBX = "{%s}txbxContent" % _W
_TITLE_MAX = 200
_PAGE_ONLY = re.compile(r"^(?:page\s{0,3})?\d{0,5}(?:\s{0,3}(?:of|/)\s{0,3}\d{0,5})?$", re.I)
_BLANKS = re.compile(r"\n{3,}")
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)  # no entity expansion
_TOC_STYLE = re.compile(r"^toc ?\d$|^toc heading$|^table of figures$", re.I)


def _w(tag: str) -> str:
    return f"{{{_W}}}{tag}"


_P, _TBL, _TR, _TC, _SDT, _SDT_CONTENT, _CUSTOM_XML, _INS = (
    _w("p"), _w("tbl"), _w("tr"), _w("tc"), _w("sdt"), _w("sdtContent"), _w("customXml"), _w("ins"))
_T, _TAB, _BR, _CR, _NB_HYPHEN, _DEL_TEXT, _INSTR = (
    _w("t"), _w("tab"), _w("br"), _w("cr"), _w("noBreakHyphen"), _w("delText"), _w("instrText"))
_SYM = _w("sym")
_FALLBACK = f"{{{_MC}}}Fallback"
_CONTAINERS = frozenset({_SDT, _SDT_CONTENT, _CUSTOM_XML, _INS, _w("smartTag"), _w("body"), _w("hdr"), _w("ftr"),
                         _w("footnote"), _w("endnote"), _w("txbxContent")})


def parse_docx(data: bytes) -> tuple[str, str]:
    """(title, text) of a .docx; ValueError("...") when it is not a readable Word document."""
    try:
        document = docx.Document(io.BytesIO(data))
        body = document.element.body
        header_blocks, footer_blocks = _header_footer_blocks(document)
        blocks = _blocks(body, _toc_style_ids(document))
        notes = _note_blocks(document)
        title = _title(document, body)
    except (zipfile.BadZipFile, PackageNotFoundError) as exc:
        raise ValueError("corrupt DOCX (not a valid ZIP archive)") from exc
    except (KeyError, ValueError, etree.XMLSyntaxError, AttributeError, TypeError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:70]
        raise ValueError(f"corrupt DOCX ({reason or type(exc).__name__})") from exc
    text = "\n\n".join(b for b in header_blocks + blocks + notes + footer_blocks if b.strip())
    text = _BLANKS.sub("\n\n", fix_chars(text)).strip()
    if not text:
        raise ValueError("empty DOCX (no text)")
    return title, text


def _blocks(container: etree._Element, toc_styles: frozenset[str] = frozenset()) -> list[str]:
    """Text blocks of a body-like element in order; iterative over nested containers."""
    out: list[str] = []
    stack = [iter(container)]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            continue
        if child.tag == _P:
            if _is_toc_paragraph(child, toc_styles):
                continue
            text, boxes = _paragraph(child)
            out.append(text)
            for box in boxes:
                out.extend(_blocks(box, toc_styles))
        elif child.tag == _TBL:
            out.append(_table(child, toc_styles))
        elif child.tag == _SDT and _is_toc_sdt(child):
            continue
        elif child.tag in _CONTAINERS:
            stack.append(iter(child))
    return [b for b in out if b.strip()]


def _is_toc_sdt(sdt: etree._Element) -> bool:
    """A content control that Word fills with a table of contents (navigation, not content)."""
    gallery = sdt.find(f"{_w('sdtPr')}/{_w('docPartObj')}/{_w('docPartGallery')}")
    return gallery is not None and "contents" in (gallery.get(_w("val")) or "").lower()


def _is_toc_paragraph(p: etree._Element, toc_styles: frozenset[str]) -> bool:
    style = p.find(f"{_w('pPr')}/{_w('pStyle')}")
    return style is not None and (style.get(_w("val")) or "") in toc_styles


def _toc_style_ids(document: docx.document.Document) -> frozenset[str]:
    """Ids of the paragraph styles named "toc N"/"TOC Heading" (ids are localised: "TM1" in French Word)."""
    ids = set()
    for style in document.styles:
        name = getattr(style, "name", "") or ""
        if _TOC_STYLE.match(name) and style.style_id:
            ids.add(style.style_id)
    return frozenset(ids)


def _paragraph(p: etree._Element) -> tuple[str, list[etree._Element]]:
    """(text of the paragraph, text-box contents anchored in it)."""
    parts: list[str] = []
    boxes: list[etree._Element] = []
    walker = etree.iterwalk(p, events=("start",))
    for _event, el in walker:
        tag = el.tag
        if tag == _T:
            parts.append(el.text or "")
        elif tag == _TAB:
            parts.append("\t")
        elif tag in (_BR, _CR):
            parts.append("\n")
        elif tag == _NB_HYPHEN:
            parts.append("-")
        elif tag == _SYM:  # a glyph of a symbol font (Wingdings arrow...): no reliable Unicode, keep words apart
            parts.append(" ")
        elif tag in (_FALLBACK, _DEL_TEXT, _INSTR) or (tag == _P and el is not p) or tag == _TBL:
            walker.skip_subtree()
        elif tag == _WPS_TXBX:
            boxes.append(el)
            walker.skip_subtree()
    return "".join(parts).strip(), boxes


def _cell_text(tc: etree._Element, toc_styles: frozenset[str]) -> str:
    return " ".join(" ".join(b.split()) for b in _blocks(tc, toc_styles))


def _table(tbl: etree._Element, toc_styles: frozenset[str] = frozenset()) -> str:
    """One line per row, cells joined by " | "; a one-column table (a framed box) is read as paragraphs."""
    own_cells = [tc for tc in tbl.iter(_TC) if _ancestor_table(tc) is tbl]
    own_rows = [tr for tr in tbl.iter(_TR) if _ancestor_table(tr) is tbl]
    if own_rows and len(own_cells) == len(own_rows):
        return "\n\n".join(b for tc in own_cells for b in _blocks(tc, toc_styles))
    rows = []
    for tr in tbl.iter(_TR):
        if _ancestor_table(tr) is not tbl:
            continue  # a nested table's row: read as part of its cell
        cells = []
        for tc in tr.iter(_TC):
            if _ancestor_table(tc) is not tbl:
                continue
            v_merge = tc.find(f"{_w('tcPr')}/{_w('vMerge')}")
            if v_merge is not None and v_merge.get(_w("val")) in (None, "continue"):
                continue
            if text := _cell_text(tc, toc_styles):
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _ancestor_table(el: etree._Element) -> etree._Element | None:
    for anc in el.iterancestors(_TBL):
        return anc
    return None


def _header_footer_blocks(document: docx.document.Document) -> tuple[list[str], list[str]]:
    headers: list[str] = []
    footers: list[str] = []
    for section in document.sections:
        for kind, out in (("header", headers), ("footer", footers)):
            for variant in (kind, f"first_page_{kind}", f"even_page_{kind}"):
                part = getattr(section, variant)
                if part.is_linked_to_previous:
                    continue
                text = "\n".join(_blocks(part._element)).strip()
                if text and not _PAGE_ONLY.match(" ".join(text.split())) and len(text) > 3 and text not in out:
                    out.append(text)
    return headers, footers


def _note_blocks(document: docx.document.Document) -> list[str]:
    out: list[str] = []
    for rel in document.part.rels.values():
        if rel.is_external or rel.reltype not in (RT.FOOTNOTES, RT.ENDNOTES):
            continue
        root = etree.fromstring(rel.target_part.blob, parser=_SAFE_XML)
        for note in root:
            if note.get(_w("type")) in ("separator", "continuationSeparator", "continuationNotice"):
                continue
            out.extend(_blocks(note))
    return out


def _title(document: docx.document.Document, body: etree._Element) -> str:
    core = (document.core_properties.title or "").strip()
    if core and (title := clean_title(core)):
        return title[:_TITLE_MAX]
    first_heading = first_text = ""
    for paragraph in document.paragraphs[:200]:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if style == "Title":
            return clean_title(text)[:_TITLE_MAX]
        if style in ("Heading 1", "heading 1") and not first_heading:
            first_heading = text
        first_text = first_text or text
    return clean_title(first_heading or first_text)[:_TITLE_MAX]
