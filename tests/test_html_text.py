"""parse_html on real Sphinx/DocBook pages (fixtures/) and on small synthetic generic pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.html_text import parse_html

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


CHROME = ("Show Source", "Table of Contents", "Previous topic", "Next topic", "This Page", "Report a Bug",
          "Quick search", "Navigation", "Python 3.11.2 Documentation »")


def _lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


@pytest.mark.parametrize("name,title", [
    ("python-library-bisect.html", "bisect — Array bisection algorithm"),
    ("python-library-fnmatch.html", "fnmatch — Unix filename pattern matching"),
    ("python-tutorial-appetite.html", "1. Whetting Your Appetite"),
])
def test_sphinx_page_main_content_only(name: str, title: str) -> None:
    got_title, text = parse_html(fixture_bytes(name))
    assert got_title == title
    assert "\u00b6" not in text and "\u00b6" not in got_title
    lines = _lines(text)
    assert not [line for line in lines if line.strip() in CHROME]
    assert "©" not in text and "Copyright" not in text  # footer
    assert sum(len(line) <= 3 for line in lines) / len(lines) < 0.05  # inline tags stay inline
    assert text.startswith(title)


def test_sphinx_signature_and_code_block_kept() -> None:
    _, text = parse_html(fixture_bytes("python-library-bisect.html"))
    assert "\nbisect.bisect_left(a, x, lo=0, hi=len(a), *, key=None)\n" in text
    assert "Source code: Lib/bisect.py" in text
    # a <pre> block keeps its lines and indentation, as one paragraph
    assert "def index(a, x):\n    'Locate the leftmost value exactly equal to x'\n" in text


def test_sphinx_table_rows() -> None:
    _, text = parse_html(fixture_bytes("python-library-fnmatch.html"))
    assert "Pattern | Meaning\n* | matches everything\n? | matches any single character" in text


DOCBOOK = b"""<html><head><title>3.1. Overview</title></head><body>
<div class="navheader"><table width="100%"><tr><th colspan="3" align="center">3.1. Overview</th></tr>
<tr><td align="left"><a accesskey="p" href="ch03.html">Prev</a> </td>
<th align="center">Chapter 3. Before Installing</th>
<td align="right"> <a accesskey="n" href="ch03s02.html">Next</a></td></tr></table><hr></div>
<div class="sect1"><div class="titlepage"><div><div>
<h2 class="title">3.1. Overview of the Process</h2></div></div></div>
<div class="toc"><dl><dt><span class="sect2"><a href="#x">3.1.1. A subsection</a></span></dt></dl></div>
<p>First, just a note about re-installations.</p></div>
<div class="navfooter"><hr><table width="100%"><tr><td align="left"><a href="ch03.html">Prev</a></td>
<td align="center"><a href="index.html">Home</a></td>
<td align="right"><a href="ch03s02.html">Next</a></td></tr></table></div>
</body></html>"""


def test_docbook_page_without_nav() -> None:
    # the shape of a DocBook XSL chunk page (the Debian installation guide's), written here
    title, text = parse_html(DOCBOOK)
    assert title == "3.1. Overview"  # no h1 on the page: <title>
    assert "Prev" not in _lines(text) and "Next" not in _lines(text) and "Home" not in text
    assert "Chapter 3. Before Installing" not in text and "A subsection" not in text  # navheader caption, TOC
    assert text == "3.1. Overview of the Process\n\nFirst, just a note about re-installations."


# footnotes as docutils writes them: before 0.18 (the Debian Policy Manual's pages) and from 0.18 (Python 3.11's)
FOOTNOTES_OLD = b"""<html><body><div role="main"><h1>10. Files</h1><p>Scripts may assume POSIX.<a
class="footnote-reference brackets" href="#id22" id="id7">7</a></p><dl class="footnote brackets">
<dt class="label" id="id22"><span class="brackets"><a class="fn-backref" href="#id7">7</a></span></dt>
<dd><p>The Open Group Base Specifications Issue 7, 2018 Edition.</p>
</dd></dl></div></body></html>"""
FOOTNOTES_NEW = b"""<html><body><div role="main"><h1>heapq</h1><p>Heaps are useful.</p>
<aside class="footnote-list brackets"><aside class="footnote brackets" id="id2" role="note">
<span class="label"><span class="fn-bracket">[</span><a role="doc-backlink" href="#id1">1</a><span
class="fn-bracket">]</span></span>
<p>The disk balancing algorithms which are current are more annoying than clever.</p>
</aside></aside></div></body></html>"""


def test_footnote_label_starts_its_text() -> None:
    # a label alone on its line ("7") made a passage of footnotes look like a column of page numbers
    _, old = parse_html(FOOTNOTES_OLD)
    assert "[7] The Open Group Base Specifications Issue 7, 2018 Edition." in old.split("\n")
    _, new = parse_html(FOOTNOTES_NEW)
    assert new.split("\n\n")[-1] == "[1] The disk balancing algorithms which are current are more annoying than clever."


GENERIC = b"""<!DOCTYPE html><html><head><title>Site - Page title</title></head><body>
<header><a href="/">Home</a> <a href="/blog">Blog</a></header>
<nav><ul><li>Section A</li><li>Section B</li></ul></nav>
<div id="wrap"><main>
<h1>Real heading</h1>
<p>Use <code>foo()</code> and <em>bar</em>, see <a href="x">the docs</a>.<!-- c -->Tail kept.</p>
<p>Line one<br>line two</p>
<pre>
def f():
    return 1
</pre>
<table><thead><tr><th>Key</th><th>Value</th></tr></thead><tbody><tr><td><p>a</p></td><td>1</td></tr></tbody></table>
</main>
<aside class="sidebar">Related posts</aside></div>
<footer>Copyright 2024 Someone</footer>
</body></html>"""


def test_generic_page_main_element() -> None:
    title, text = parse_html(GENERIC)
    assert title == "Real heading"
    assert text == ("Real heading\n\nUse foo() and bar, see the docs.Tail kept.\n\nLine one\nline two\n\n"
                    "def f():\n    return 1\n\nKey | Value\na | 1")


def test_generic_page_without_main_drops_chrome() -> None:
    page = GENERIC.replace(b"<main>", b"<div>").replace(b"</main>", b"</div>")
    title, text = parse_html(page)
    assert title == "Real heading"
    assert "Home" not in text and "Section A" not in text and "Copyright" not in text
    assert "Related posts" not in text
    assert "Use foo() and bar" in text


def test_title_falls_back_to_title_element() -> None:
    title, text = parse_html(b"<html><head><title> A  page </title></head><body><p>Hello</p></body></html>")
    assert (title, text) == ("A page", "Hello")


@pytest.mark.parametrize("data,expected", [
    ("<p>caf\u00e9</p>".encode("cp1252"), "caf\u00e9"),  # no declaration, not UTF-8
    (b'<meta charset="iso-8859-1"><p>caf\xe9 \x93q\x94</p>', "caf\u00e9 \u201cq\u201d"),  # latin-1 means cp1252
    (b'<?xml version="1.0" encoding="UTF-8"?><html xmlns="http://www.w3.org/1999/xhtml"><body><p>caf\xc3\xa9</p>'
     b"</body></html>", "caf\u00e9"),
    ("\ufeff<p>caf\u00e9</p>".encode("utf-8"), "caf\u00e9"),
])
def test_encodings(data: bytes, expected: str) -> None:
    assert parse_html(data)[1] == expected


@pytest.mark.parametrize("data", [b"", b"   \n"])
def test_empty_input_is_value_error(data: bytes) -> None:
    with pytest.raises(ValueError, match="empty"):
        parse_html(data)


def _nested(depth: int) -> bytes:
    return b"<html><body>" + b"<div>" * depth + b"<p>deep</p>" + b"</div>" * depth + b"</body></html>"


def test_deep_nesting_is_read_iteratively() -> None:
    assert "deep" in parse_html(_nested(200))[1]


def test_pathological_nesting_is_a_value_error_not_a_crash() -> None:
    # libxml2 stops building the tree at depth 256 (a security limit we keep): no text -> ValueError
    try:
        assert "deep" in parse_html(_nested(20000))[1]
    except ValueError as exc:
        assert "no text" in str(exc)


def test_page_without_text_is_value_error() -> None:
    with pytest.raises(ValueError, match="no text"):
        parse_html(b"<html><body><img src='a.png'><script>var x = 1;</script></body></html>")
