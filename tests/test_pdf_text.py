"""parse_pdf on real manual excerpts (fixtures/) and its post-processing steps on small synthetic input."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from rag.pdf_text import _Box, _drop_running_lines, _is_contents_or_index, _join_hyphens, parse_pdf


FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _all_lines(pages: list[str]) -> list[str]:
    return [line.strip() for page in pages for line in page.split("\n") if line.strip()]


def test_texinfo_manual_excerpt() -> None:
    result = parse_pdf(fixture_bytes("bashref-excerpt.pdf"))  # bashref pages 2, 3, 12, 13, 30, 195
    assert len(result.pages) == 6
    assert result.skip_pages == {2, 6}  # table of contents, index (dot leaders)
    lines = _all_lines(result.pages)
    # running headers "Chapter 3: Basic Shell Features" and page numbers ("6", "24", "ii") are gone
    assert not [x for x in lines if x.startswith("Chapter 3: Basic Shell Features")]
    assert not [x for x in lines if re.fullmatch(r"\d{1,3}|[ivx]{1,4}", x) and x not in ("0", "1")]
    # "mech-\nanism" joined; no lower-case word left broken at a line end
    assert "This mechanism is similar to filename expansion" in result.pages[4].replace("\n", " ")
    assert not re.search(r"[a-z]-\n[a-z]", "\n".join(result.pages[2:5]))
    assert "3.1.2 Quoting" in result.pages[2]


def test_reportlab_guide_running_lines_contents_and_metadata_title() -> None:
    result = parse_pdf(fixture_bytes("reportlab-userguide-excerpt.pdf"))  # guide pages 1, 3, 6-9
    assert result.title == "ReportLab PDF Generation User Guide"
    assert result.skip_pages == {2}  # a "Table of contents" page of dot leaders
    body = _all_lines(result.pages[2:])
    # the running header ("User Guide", "Chapter 1 Introduction") and footer ("Page 7") are gone from every page;
    # the chapter's own heading, where the chapter starts, stays
    assert "User Guide" not in body and not [x for x in body if re.fullmatch(r"Page \d+", x)]
    assert body.count("Chapter 1 Introduction") == 1 and result.pages[2].startswith("Chapter 1 Introduction")
    assert "This document is an introduction to the ReportLab PDF library." in result.pages[2]


def test_groff_man_page_spacing_and_lookalikes() -> None:
    result = parse_pdf(fixture_bytes("bash-man-excerpt.pdf"))
    assert result.title == "bash - GNU Bourne-Again SHell"
    text = "\n".join(result.pages)
    assert "BASH(1)" not in text and "GNU Bash 5.2" not in text  # running header and footer
    assert "--rcfile file" in text and "~/.bashrc" in text  # U+2212 and U+02DC mapped to ASCII
    words = Counter(w.lower() for w in re.findall(r"[A-Za-z]+", text))
    assert words["ifthe"] == 0 and words["the"] > 50  # pdfium/pypdf glue words on this file; pdfminer does not


def test_man_page_hanging_terms_stay_with_their_text() -> None:
    # groff sets each special parameter 30 pt left of its text on one baseline; pdfminer cut them into a column of
    # bare terms ("@ # ? - $ ! 0") apart from a column of descriptions, so no passage said what "$" means
    result = parse_pdf(fixture_bytes("bash-man-special-parameters.pdf"))  # bash.pdf pages 10-11
    lines = _all_lines(result.pages)
    assert not [x for x in lines if x in ("*", "@", "#", "?", "-", "$", "!", "0", "_")]
    assert "$ Expands to the process ID of the shell. In a subshell, it expands to the process ID of the current" \
        in lines
    assert "# Expands to the number of positional parameters in decimal." in lines
    assert "BASH Expands to the full filename used to invoke this instance of bash." in lines
    # a justified line's last word, cut off by a wide gap, is back at the end of its line
    assert "array elements currently does not cause aliases to be removed from the alias list. If" in lines


def test_no_ligatures_or_control_characters() -> None:
    for name in ("bashref-excerpt.pdf", "reportlab-userguide-excerpt.pdf", "bash-man-excerpt.pdf"):
        text = "\n".join(parse_pdf(fixture_bytes(name)).pages)
        assert not re.search("[\ufb00-\ufb06\x00-\x08\x0b-\x1f\ufffe\ufffd]", text), name
        assert "(cid:" not in text


def test_join_hyphens_uses_document_vocabulary() -> None:
    vocab = Counter({"variables": 3, "us-ascii": 2, "non-root": 1})
    text = "shell vari-\nables are\nset in US-\nASCII; a non-\nroot user; an unk-\nnownword. A Foo-\nBar"
    assert _join_hyphens(text, vocab) == (
        "shell variables\nare\nset in US-ASCII;\na non-root\nuser; an unknownword.\nA Foo-Bar\n")


def test_contents_and_index_pages_recognised() -> None:
    toc = "Table of Contents\n" + "\n".join(f"{i}.{j} Section title . . . . . . . . {10 * i + j}"
                                            for i in range(1, 4) for j in range(1, 4))
    index = "\n".join(f"term{i}, {i * 7}" for i in range(12))
    body = "This is an ordinary page of prose.\n" * 12
    table = "\n".join(f"  {i}   :    1376580069.552 0.009   0    0       2       0      exit {i}" for i in range(9))
    assert _is_contents_or_index(toc) and _is_contents_or_index(index)
    assert not _is_contents_or_index(body) and not _is_contents_or_index(table)


def test_running_lines_need_repetition_in_the_page_band() -> None:
    height = 800.0
    pages = []
    for n in range(1, 7):
        pages.append([
            _Box(f"Chapter 2: Things {n + 10}", 770, 780),  # header, page number inside
            _Box(f"Body text of page {n} starts here", 700, 760),
            _Box("Unique closing line" if n != 3 else "Another closing line", 60, 70),
            _Box(str(n + 10), 20, 30),  # footer page number
        ])
    _drop_running_lines(pages, [height] * 6)
    assert [[b.text for b in page] for page in pages][0] == ["Body text of page 1 starts here", "Unique closing line"]
    assert all(len(page) == 2 for page in pages)


@pytest.mark.parametrize("data,reason", [
    (b"", "not a PDF"),
    (b"hello world", "not a PDF"),
    (b"%PDF-1.4\n1 0 obj << /Type /Catalog", "corrupt PDF|PDF has no pages"),
])
def test_unreadable_input_is_value_error(data: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_pdf(data)


def _blank_pdf() -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, obj)
    xref = len(out)
    out += b"xref\n0 4\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer << /Size 4 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def test_needlessly_escaped_characters_are_kept() -> None:
    # how GNU parallel's tutorial (pod2pdf) writes its code: "\\{" is "{" by the PDF spec; pdfminer.six dropped it
    from hostile_files import minimal_pdf

    content = rb"BT /F1 12 Tf 72 700 Td (parallel echo \{\} \[x\] ::: a\051 b) Tj ET"
    result = parse_pdf(minimal_pdf(content))
    assert result.pages == ["parallel echo {} [x] ::: a) b"]


def test_pdf_without_text_is_value_error() -> None:
    with pytest.raises(ValueError, match="no extractable text"):
        parse_pdf(_blank_pdf())


def test_truncated_real_pdf_is_value_error_or_partial() -> None:
    data = fixture_bytes("bash-man-excerpt.pdf")
    try:
        result = parse_pdf(data[: len(data) // 3])
    except ValueError as exc:
        assert str(exc)
    else:
        assert result.pages
