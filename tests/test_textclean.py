"""clean_text / clean_title / text_title on real terminal output, man pages and READMEs (fixtures/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.textclean import clean_text, clean_title, text_title

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()



def _overstrike(text: str) -> str:
    """Text as `groff -man -Tutf8` prints it for a pager: bold as X\\bX, underline as _\\bX."""
    return "".join(f"{c}\b{c}" if c.isupper() else f"_\b{c}" if c.islower() else c for c in text)


def test_ansi_colour_output() -> None:
    raw = ("\x1b[32m[U]\x1b[0m dev-python/\x1b[1mpysvn\x1b[0m\n     Available versions:  \x1b[34m1.7.6\x1b[0m "
           "\x1b[1;31m(~)\x1b[0m1.7.7\x1b[K\n")
    text = clean_text(raw)
    assert "\x1b" not in text
    assert text.startswith("[U] dev-python/pysvn\n     Available versions:  1.7.6 (~)1.7.7")
    assert text_title(raw) == "[U] dev-python/pysvn"


def test_sgr_man_page() -> None:
    raw = ("GREP(1)                  General Commands Manual                  GREP(1)\n\n\x1b[1mNAME\x1b[0m\n"
           "       grep, egrep - print lines that match patterns\n\n\x1b[1mSYNOPSIS\x1b[0m\n       \x1b[1mgrep\x1b[0m "
           "[\x1b[4mOPTION\x1b[24m...]\n")
    text = clean_text(raw)
    assert "\x1b" not in text and "\nNAME\n       grep, egrep - print lines that match patterns" in text
    assert text_title(raw) == "grep, egrep - print lines that match patterns"


def test_overstrike_man_page() -> None:
    raw = ("MAKE(1)                  User Commands                  MAKE(1)\n\n" + _overstrike("NAME") + "\n"
           "       make - GNU make utility to maintain groups of programs\n\n" + _overstrike("SYNOPSIS") + "\n"
           "       " + _overstrike("make") + " [" + _overstrike("OPTION") + "]...\n")
    assert "N\bNA\bAM\bME\bE" in raw
    text = clean_text(raw)
    assert "\b" not in text
    assert "\nNAME\n       make - GNU make utility to maintain groups of programs" in text
    assert "make [OPTION]..." in text  # bold (X\bX) and underline (_\bX) both resolved
    assert text_title(raw) == "make - GNU make utility to maintain groups of programs"


def test_readme_with_html_logo_block() -> None:
    raw = fixture_bytes("httpx-README.md").decode()
    assert raw.lstrip().startswith('<p align="center">')
    assert text_title(raw) == "HTTPX"


@pytest.mark.parametrize("raw,expected", [
    ("a\r\nb\rc\fd", "a\nb\nc\nd"),
    ("\ufeffBOM\x00 and \x07bell\x7f", "BOM and bell"),
    ("\ufb01le \ufb02ow e\ufb03cient", "file flow efficient"),
    ("\u2212\u2212rcfile \u02dc/.bashrc", "--rcfile ~/.bashrc"),
    ("\x1b]0;window title\x07prompt$ \x1b[1;31mred\x1b[0m \x1b(Bok", "prompt$ red ok"),
    ("keep\ttabs \u00bd \u2122 \u00b2", "keep\ttabs \u00bd \u2122 \u00b2"),  # no NFKC on the rest
    ("\x9b1mC1 CSI\x9b0m", "C1 CSI"),
])
def test_clean_text(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize("line,expected", [
    ('<p align="center"><img src="logo.png" alt="Logo"></p>', ""),
    ("[![PyPI](https://img.shields.io/pypi/v/x.svg)](https://pypi.org/project/x)", ""),
    ("# \x1b[1mBold title\x1b[0m #", "Bold title"),
    ("**Fast** _and_ `simple` [docs](https://x.org)", "Fast and simple docs"),
    ('<h1 align="center">Charset Detection &amp; more</h1>', "Charset Detection & more"),
    ("GNU make NEWS                     -*-indented-text-*-", "GNU make NEWS"),
    ("=========", ""),
    ("https://example.org/only-a-url)", ""),
    ("my_module_name", "my_module_name"),
])
def test_clean_title(line: str, expected: str) -> None:
    assert clean_title(line) == expected


@pytest.mark.parametrize("text,expected", [
    ("<!--\nDo not edit\n-->\n<p><img src='x.svg'></p>\n\nSome intro line.\n\n## Usage\n", "Some intro line."),
    ("[![CI](https://x/badge.svg)](https://x)\n\n![Project logo](docs/logo.png)\n\nText.\n", "Project"),
    ("```bash\n# not a title\n```\n\nMyTool\n======\n", "MyTool"),
    ("****\n  What's New\n****\n\nbody\n", "What's New"),
    ("Intro line\n\n# Real Title\n", "Real Title"),
    ("", ""),
    ("\x1b[31m\x1b[0m\n\n", ""),
])
def test_text_title(text: str, expected: str) -> None:
    assert text_title(text) == expected
