"""parse_docx on python-docx's own test documents (fixtures/) and on WordprocessingML built here."""

from __future__ import annotations

from pathlib import Path

import io
import re
import zipfile

import docx
import pytest

from rag.docx_text import parse_docx

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def test_nested_table_and_header_footer_tables() -> None:
    # header and footer are 2-column tables (rows); the body's 1-column tables (one nested) read as paragraphs
    title, text = parse_docx(fixture_bytes("python-docx-blk-paras-and-tables.docx"))
    assert text == ("Left-side | Right-side\n\nLorem ipsum dolor sit amet, consectetur adipiscing elit.\n\n"
                    "Text before\n\nTable\n\nBetween\n\nText after\n\n"
                    "Donec semper facilisis metus finibus malesuada.\n\nCopyright | Page-number")
    assert title == "Lorem ipsum dolor sit amet, consectetur adipiscing elit."


def test_styled_tables_rows() -> None:
    _, text = parse_docx(fixture_bytes("python-docx-tbl-having-applied-style.docx"))
    assert text.count("foo to you | and a hearty foo to you too sir!") == 3
    assert "foobar | barfoo\nfoo | bar\nbar | foo" in text


def test_first_page_and_even_headers_kept_once() -> None:
    _, text = parse_docx(fixture_bytes("python-docx-sct-first-page-hdrftr.docx"))
    assert text.startswith("Default (odd, primary) Header")
    assert text.count("First Page Header (section 2)") == 1
    assert "Page 6, Third page of section 2." in text


def _docx_with_body(body_xml: str) -> bytes:
    buffer = io.BytesIO()
    docx.Document().save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    document = source.read("word/document.xml").decode()
    sect = re.search(r"<w:sectPr.*</w:sectPr>", document, re.S)
    head = document[: document.index("<w:body>") + len("<w:body>")]
    if f'xmlns:mc="{MC_NS}"' not in head:
        head = head.replace("<w:document ", f'<w:document xmlns:mc="{MC_NS}" ', 1)
    new = head + body_xml + (sect.group(0) if sect else "") + "</w:body></w:document>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            target.writestr(item, new if item.filename == "word/document.xml" else source.read(item.filename))
    return out.getvalue()


def _p(text: str, style: str = "") -> str:
    ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f"<w:p>{ppr}<w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r></w:p>"


def test_content_controls_tracked_changes_text_boxes_and_merged_cells() -> None:
    body = (
        _p("Report", "Title")
        + "<w:sdt><w:sdtPr><w:docPartObj><w:docPartGallery w:val=\"Table of Contents\"/></w:docPartObj></w:sdtPr>"
          "<w:sdtContent>" + _p("Contents 1") + "</w:sdtContent></w:sdt>"
        + "<w:sdt><w:sdtPr/><w:sdtContent>" + _p("Inside a content control") + "</w:sdtContent></w:sdt>"
        + "<w:p><w:r><w:t>Kept </w:t></w:r><w:ins w:id=\"1\" w:author=\"a\"><w:r><w:t>inserted</w:t></w:r></w:ins>"
          "<w:del w:id=\"2\" w:author=\"a\"><w:r><w:delText>deleted</w:delText></w:r></w:del>"
          "<w:r><w:t xml:space=\"preserve\"> text</w:t><w:tab/><w:t>tab</w:t><w:br/><w:t>break</w:t></w:r>"
          "<w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText>PAGE</w:instrText></w:r>"
          "<w:r><w:t>non</w:t><w:noBreakHyphen/><w:t>breaking</w:t></w:r></w:p>"
        + "<w:p><w:r><w:t>Anchor</w:t></w:r><w:r><mc:AlternateContent><mc:Choice Requires=\"wps\"><w:drawing>"
          "<w:txbxContent>" + _p("Box text") + "</w:txbxContent></w:drawing></mc:Choice><mc:Fallback><w:pict>"
          "<w:txbxContent>" + _p("Box text") + "</w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent>"
          "</w:r></w:p>"
        + "<w:tbl><w:tr><w:tc>" + _p("Name") + "</w:tc><w:tc>" + _p("Value") + "</w:tc></w:tr>"
          "<w:tr><w:tc><w:tcPr><w:vMerge w:val=\"restart\"/></w:tcPr>" + _p("merged") + "</w:tc><w:tc>" + _p("1")
        + "</w:tc></w:tr><w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr>" + _p("") + "</w:tc><w:tc>" + _p("2")
        + "</w:tc></w:tr></w:tbl>"
        + "<w:tbl><w:tr><w:tc>" + _p("Boxed paragraph one") + _p("Boxed paragraph two") + "</w:tc></w:tr></w:tbl>"
    )
    body = body.replace("<w:p>", f'<w:p xmlns:w="{W_NS}">', 0)
    title, text = parse_docx(_docx_with_body(body))
    assert title == "Report"
    assert text == ("Report\n\nInside a content control\n\nKept inserted text\ttab\nbreaknon-breaking\n\nAnchor\n\n"
                    "Box text\n\nName | Value\nmerged | 1\n2\n\nBoxed paragraph one\n\nBoxed paragraph two")


@pytest.mark.parametrize("data,reason", [
    (b"not a zip", "not a valid ZIP"),
    (b"", "not a valid ZIP"),
])
def test_unreadable_input_is_value_error(data: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_docx(data)


def test_zip_that_is_not_a_docx_is_value_error() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(ValueError, match="DOCX"):
        parse_docx(out.getvalue())


def test_docx_without_text_is_value_error() -> None:
    buffer = io.BytesIO()
    docx.Document().save(buffer)
    with pytest.raises(ValueError, match="empty DOCX"):
        parse_docx(buffer.getvalue())
