"""Tests for rag.documents: every fixture is built in tmp_path at run time (no binary files committed)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import docx
import pytest
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from rag.documents import (
    SUPPORTED_EXTENSIONS,
    Document,
    LoadFailure,
    LoadResult,
    iter_corpus_files,
    load_corpus,
    load_file,
)
from rag.errors import DocumentError

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_7582f00bdfc6e56e.txt"
SQUAD_CORPUS = Path("/work/shared/data/squad-v1.1-dev/corpus.jsonl")
SEED_URL = (
    "https://www.themoscowtimes.com/2022/02/16/"
    "belarus-says-not-a-single-russian-soldier-will-stay-after-joint-drills-a76408"
)


# --- fixture builders ---------------------------------------------------------------------------


def write_pdf(
    path: Path,
    pages: list[str],
    title: str | None = None,
    user_password: str | None = None,
) -> Path:
    """A real PDF with one line of Helvetica text per entry of `pages` (empty string: a page with no text)."""
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    font_ref = writer._add_object(font)
    for text in pages:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})}
        )
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1") if text else b"")
        page[NameObject("/Contents")] = writer._add_object(stream)
    if title is not None:
        writer.add_metadata({"/Title": title})
    if user_password is not None:
        # RC4 works without the optional `cryptography` package (AES would need it).
        writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="RC4-128")
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def write_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_heading("Quarterly Report", level=1)
    document.add_paragraph("Revenue grew in the northern region.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Region"
    table.cell(0, 1).text = "Revenue"
    table.cell(1, 0).text = "North"
    table.cell(1, 1).text = "42 million"
    document.add_paragraph("Closing remarks after the table.")
    document.save(str(path))
    return path


HTML = """<!DOCTYPE html>
<html><head><title>Widget Guide</title><style>body { color: red; }</style>
<script>var tracking = "SCRIPT_TEXT";</script></head>
<body>
<header>SITE HEADER</header>
<nav><a href="/">NAV LINK</a></nav>
<h1>Widgets</h1>


<p>Widgets are <b>small</b> devices.</p>



<p>They are used everywhere.</p>
<footer>SITE FOOTER</footer>
</body></html>
"""


def build_mixed_corpus(root: Path) -> Path:
    """Good files of every format plus one bad file per failure reason."""
    (root / "sub").mkdir(parents=True)
    guide = "Intro line\n\n# Markdown Title\n\nSome *markdown* prose.\n"
    (root / "guide.md").write_text(guide, encoding="utf-8")
    (root / "page.html").write_text(HTML, encoding="utf-8")
    write_pdf(root / "report.pdf", ["Hello from page one", "Second page text"], title="PDF Meta Title")
    write_docx(root / "memo.docx")
    (root / "sub" / "notes.txt").write_text("\ufeff  First line of notes\nsecond line\n", encoding="utf-8")
    (root / "corrupt.pdf").write_bytes(b"this is not a pdf at all, just some words")
    (root / "empty.txt").write_bytes(b"")
    (root / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (root / "latin1.txt").write_bytes("Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e".encode("latin-1"))
    write_pdf(root / "locked.pdf", ["Secret text"], user_password="hunter2")
    (root / "big.txt").write_text("x" * 150_000, encoding="utf-8")
    (root / "broken.docx").write_bytes(b"PK\x03\x04 definitely not a real zip")
    return root


# --- the seed file ------------------------------------------------------------------------------


@pytest.mark.skipif(not SEED.exists(), reason="seed file not present")
def test_seed_file_title_url_and_text() -> None:
    result = load_corpus(SEED)
    assert result.failures == []
    [doc] = result.documents
    assert doc.id == SEED.name
    assert doc.title.startswith("Belarus's foreign minister Vladimir Makei")
    assert doc.url == SEED_URL
    assert "Original url" not in doc.text
    assert "themoscowtimes" not in doc.text
    assert doc.text.endswith("Minsk has often tread a fine line in disputes between Kyiv and Moscow.")
    assert doc.text == doc.text.strip()
    assert doc.sha256 == hashlib.sha256(SEED.read_bytes()).hexdigest()
    assert doc.path == str(SEED.resolve())
    # Hard-wrapped lines are kept (offsets into the text must be stable).
    assert "Russian soldier\nwill remain" in doc.text


def test_trailer_last_match_wins_and_case_insensitive(tmp_path: Path) -> None:
    body = "Title line\nBody mentions Original url: inline.\n\nORIGINAL URL: https://a.example/one-\ntwo\n\nhttps://x.example\n"
    (tmp_path / "t.txt").write_text(body, encoding="utf-8")
    doc = load_file(tmp_path / "t.txt", "t.txt")
    assert doc.url == "https://a.example/one-two"
    assert doc.text == "Title line\nBody mentions Original url: inline."


def test_no_trailer_means_no_url_and_text_verbatim(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("  Line one\r\n  indented two\r\n\r\n", encoding="utf-8")
    doc = load_file(tmp_path / "a.txt", "a.txt")
    assert doc.url is None
    assert doc.text == "Line one\n  indented two"
    assert doc.title == "Line one"


# --- folders ------------------------------------------------------------------------------------


def test_mixed_folder_loads_good_files_and_reports_bad_ones(tmp_path: Path) -> None:
    root = build_mixed_corpus(tmp_path / "corpus")
    result = load_corpus(root, max_bytes=100_000)
    assert isinstance(result, LoadResult)

    docs = {doc.id: doc for doc in result.documents}
    assert sorted(docs) == ["guide.md", "memo.docx", "page.html", "report.pdf", "sub/notes.txt"]
    errors = {failure.path: failure.error for failure in result.failures}
    assert sorted(errors) == [
        "big.txt",
        "binary.txt",
        "broken.docx",
        "corrupt.pdf",
        "empty.txt",
        "latin1.txt",
        "locked.pdf",
    ]
    assert errors["corrupt.pdf"] == "not a PDF (no %PDF header)"
    assert errors["empty.txt"] == "empty file"
    assert errors["binary.txt"] == "binary file under a text extension"
    assert errors["latin1.txt"] == "not UTF-8 text (byte 0xe9 at offset 3)"
    assert errors["locked.pdf"] == "encrypted PDF"
    assert errors["big.txt"] == "file too large (0.15 MB > 0.1 MB limit)"
    assert errors["broken.docx"] == "corrupt DOCX (not a valid ZIP archive)"

    md = docs["guide.md"]
    assert md.title == "Markdown Title"
    assert md.text == "Intro line\n\n# Markdown Title\n\nSome *markdown* prose."

    html = docs["page.html"]
    assert html.title == "Widgets"  # the h1, not <title>
    for dropped in ("SCRIPT_TEXT", "color: red", "SITE HEADER", "NAV LINK", "SITE FOOTER"):
        assert dropped not in html.text
    assert "Widgets are" in html.text and "They are used everywhere." in html.text
    assert "\n\n\n" not in html.text

    pdf = docs["report.pdf"]
    assert pdf.title == "PDF Meta Title"
    assert pdf.text == "Hello from page one\n\nSecond page text"

    memo = docs["memo.docx"]
    assert memo.title == "Quarterly Report"
    assert memo.text == (
        "Quarterly Report\n\nRevenue grew in the northern region.\n\n"
        "Region | Revenue\nNorth | 42 million\n\nClosing remarks after the table."
    )

    notes = docs["sub/notes.txt"]
    assert notes.text == "First line of notes\nsecond line"  # BOM and leading whitespace gone
    assert notes.title == "First line of notes"
    assert notes.path == str((root / "sub" / "notes.txt").resolve())
    for doc in result.documents:
        assert doc.sha256 == hashlib.sha256(Path(doc.path or "").read_bytes()).hexdigest()


def test_default_limit_is_20_mb_and_message_format(tmp_path: Path) -> None:
    big = tmp_path / "huge.md"
    with big.open("wb") as handle:  # sparse file: stat says 52.4 MB, nothing is read
        handle.truncate(52_400_000)
    with pytest.raises(DocumentError, match=r"^file too large \(52\.4 MB > 20 MB limit\)$"):
        load_file(big, "huge.md")


def test_ids_hidden_and_unsupported_files(tmp_path: Path) -> None:
    (tmp_path / "b" / "deep").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".rag").mkdir()
    (tmp_path / "b" / "deep" / "z.md").write_text("deep", encoding="utf-8")
    (tmp_path / "a.TXT").write_text("upper-case extension", encoding="utf-8")
    (tmp_path / "b" / "c.htm").write_text("<p>hello</p>", encoding="utf-8")
    (tmp_path / ".git" / "HEAD.txt").write_text("hidden dir", encoding="utf-8")
    (tmp_path / ".rag" / "x.md").write_text("hidden dir", encoding="utf-8")
    (tmp_path / ".hidden.md").write_text("hidden file", encoding="utf-8")
    (tmp_path / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "extra.jsonl").write_text('{"_id": "1", "text": "t"}\n', encoding="utf-8")

    files = iter_corpus_files(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in files] == ["a.TXT", "b/c.htm", "b/deep/z.md"]
    result = load_corpus(str(tmp_path))
    assert [d.id for d in result.documents] == ["a.TXT", "b/c.htm", "b/deep/z.md"]
    assert result.failures == []
    assert {d.id: d.title for d in result.documents}["b/deep/z.md"] == "deep"


def test_title_falls_back_to_stem_and_is_capped(tmp_path: Path) -> None:
    (tmp_path / "long.txt").write_text("word " * 100, encoding="utf-8")
    assert 190 <= len(load_file(tmp_path / "long.txt", "long.txt").title) <= 200
    write_pdf(tmp_path / "untitled.pdf", ["Only body text"])
    assert load_file(tmp_path / "untitled.pdf", "untitled.pdf").title == "Only body text"
    html = tmp_path / "h.html"
    html.write_text("<html><body><h1> Heading  One </h1><p>para</p></body></html>", encoding="utf-8")
    assert load_file(html, "h.html").title == "Heading One"


def test_pdf_edge_cases(tmp_path: Path) -> None:
    # Owner-password-only encryption opens with the empty user password.
    write_pdf(tmp_path / "owner.pdf", ["Readable despite encryption"], user_password="")
    assert load_file(tmp_path / "owner.pdf", "owner.pdf").text == "Readable despite encryption"
    write_pdf(tmp_path / "scan.pdf", ["", ""])
    with pytest.raises(DocumentError, match=r"^no extractable text \(scanned PDF\?\)$"):
        load_file(tmp_path / "scan.pdf", "scan.pdf")
    good = write_pdf(tmp_path / "good.pdf", ["Some text"]).read_bytes()
    (tmp_path / "truncated.pdf").write_bytes(good[: len(good) // 3])
    with pytest.raises(DocumentError, match=r"^corrupt PDF \(Unexpected EOF\)$"):
        load_file(tmp_path / "truncated.pdf", "truncated.pdf")
    # Trailing garbage after %%EOF is tolerated.
    (tmp_path / "tail.pdf").write_bytes(good + b"junk" * 10)
    assert load_file(tmp_path / "tail.pdf", "tail.pdf").text == "Some text"


def test_docx_that_is_a_zip_but_not_a_document(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "fake.docx", "w") as archive:
        archive.writestr("hello.txt", "not a word document")
    with pytest.raises(DocumentError, match=r"^corrupt DOCX \(.+\)$"):
        load_file(tmp_path / "fake.docx", "fake.docx")


def test_whitespace_only_and_html_without_text_are_empty(tmp_path: Path) -> None:
    (tmp_path / "ws.md").write_text(" \n\t\n  ", encoding="utf-8")
    (tmp_path / "blank.html").write_text("<html><body><script>x()</script></body></html>", encoding="utf-8")
    result = load_corpus(tmp_path)
    assert result.documents == []
    assert result.failures == [LoadFailure("blank.html", "no text in HTML"), LoadFailure("ws.md", "empty file")]


def test_missing_corpus_raises(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(DocumentError, match="corpus not found: "):
        load_corpus(missing)


def test_single_unsupported_file_is_a_failure(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("a,b", encoding="utf-8")
    result = load_corpus(tmp_path / "x.csv")
    assert result.documents == []
    assert result.failures == [LoadFailure("x.csv", "unsupported file type (.csv)")]
    assert ".docx" in SUPPORTED_EXTENSIONS


# --- jsonl --------------------------------------------------------------------------------------


def test_jsonl_variants_and_malformed_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"_id": "d1", "title": "First", "text": "Alpha text.", "url": "https://e.x/1"}),
        "",
        json.dumps({"id": 7, "title": "", "text": "Beta body\nmore"}),
        '{"_id": "broken", "text": ',
        json.dumps({"_id": "d3", "title": "Third", "text": "Gamma.\n\nOriginal url:\nhttps://e.x/\n3"}),
        json.dumps({"title": "no id", "text": "x"}),
        json.dumps({"_id": "d1", "title": "dup", "text": "again"}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"_id": "d4", "title": "Empty", "text": "   "}),
        "   ",
    ]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = load_corpus(corpus)

    assert [d.id for d in result.documents] == ["d1", "7", "d3"]
    d1, d7, d3 = result.documents
    assert d1 == Document(
        id="d1",
        title="First",
        text="Alpha text.",
        url="https://e.x/1",
        sha256=hashlib.sha256(b"First\nAlpha text.\nhttps://e.x/1").hexdigest(),
        path=None,
    )
    assert d7.title == "Beta body" and d7.url is None
    assert d7.sha256 == hashlib.sha256(b"\nBeta body\nmore\n").hexdigest()
    assert d3.text == "Gamma." and d3.url == "https://e.x/3"
    assert result.failures == [
        LoadFailure("corpus.jsonl:4", "invalid JSON on line 4"),
        LoadFailure("corpus.jsonl:6", 'missing "_id"/"id" on line 6'),
        LoadFailure("corpus.jsonl:7", 'duplicate id "d1" on line 7'),
        LoadFailure("corpus.jsonl:8", "line 8 is not a JSON object"),
        LoadFailure("corpus.jsonl:9", "empty text on line 9"),
    ]


@pytest.mark.skipif(not SQUAD_CORPUS.exists(), reason="SQuAD corpus not present")
def test_real_squad_corpus() -> None:
    result = load_corpus(SQUAD_CORPUS)
    assert result.failures == []
    assert len(result.documents) == 2067
    assert len({d.id for d in result.documents}) == 2067
    first = result.documents[0]
    assert first.id == "Super_Bowl_50#0" and first.title == "Super Bowl 50" and first.path is None
