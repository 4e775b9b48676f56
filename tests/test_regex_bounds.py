"""Every module-level regex of the modules that read document text, on 1 MB pathological inputs, finishes in under a
second (no catastrophic backtracking), and so do the public functions on the same inputs. (The limits are generous
ceilings for a linear pattern on a loaded 2-core machine; a backtracking one takes minutes to hours here.)"""

from __future__ import annotations

import itertools
import re
import time

import pytest

import rag
from rag import answerability, chunking, docx_text, html_text, jsonl_corpus, keywords, parsers, pdf_text, textclean
from rag.web import examples

MB = 1_000_000
PATHOLOGICAL = {
    "letters": "a" * MB,
    "hyphen-breaks": "ab-\n" * (MB // 4),
    "dot-leaders": ". " * (MB // 2),
    "digits": "1, " * (MB // 3),
    "open-tags": "<a " * (MB // 3),
    "lt": "<" * MB,
    "badges": "[![" * (MB // 3),
    "link-parens": "](" * (MB // 2),
    "csi-params": "\x1b[" + "0;" * (MB // 2),
    "osc-unterminated": "\x1b]" + "x" * MB,
    "hashes": "#" * MB,
    "url": "https://" + "a" * MB,
    "emphasis": "*_`" * (MB // 3),
    "modeline": "-*-" * (MB // 3),
    "spaces": "a" + " " * MB + "a",
    "roman": "iv " * (MB // 3),
    "cid": "(cid:1" * (MB // 6),
    "page-words": "page " * (MB // 5),
    "img-alt": '<img alt="' * (MB // 10),
    "backspaces": "a\b" * (MB // 2),
}


def _patterns() -> list[tuple[str, re.Pattern[str] | re.Pattern[bytes]]]:
    found = []
    for module in (textclean, html_text, pdf_text, docx_text, parsers, jsonl_corpus, chunking, examples,
                   answerability, keywords):
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern):
                found.append((f"{module.__name__.split('.')[-1]}.{name}", value))
    return found


@pytest.mark.parametrize("name,pattern", _patterns(), ids=[n for n, _ in _patterns()])
def test_regex_is_linear_on_pathological_input(name: str, pattern: re.Pattern) -> None:
    for label, text in PATHOLOGICAL.items():
        subject = text.encode("latin-1", "replace") if isinstance(pattern.pattern, bytes) else text
        start = time.perf_counter()
        pattern.search(subject)
        for _ in itertools.islice(pattern.finditer(subject), 1000):
            pass
        elapsed = time.perf_counter() - start
        assert elapsed < 1.0, f"{name} took {elapsed:.2f}s on {label}"


@pytest.mark.parametrize("label", list(PATHOLOGICAL))
def test_public_text_functions_are_fast(label: str) -> None:
    text = PATHOLOGICAL[label]
    start = time.perf_counter()
    textclean.clean_text(text)
    textclean.text_title(text)
    textclean.clean_title(text[:5000])
    pdf_text._join_hyphens(text, pdf_text.Counter())
    pdf_text._is_contents_or_index(text)
    jsonl_corpus.split_trailer(text)
    jsonl_corpus.pick_title("", text, "x")
    examples.topic_of(text[:5000])
    passages = [rag.Passage("p", "d", "D", None, text, 0, len(text), 1.0)]  # a name it lacks: every matching rule
    answerability.missing_terms("Did Zzyzxq-Qwertyu or Xyzzyplugh meet in 1887?", passages)
    answerability.flipped_word("Was the informal decrease of Zzyzxq incomplete?", text)
    answerability.lost_negation("Which decrease was not informal?", [text])
    keywords.keywords(text)
    keywords.keywords("what did " * (MB // 9))
    assert time.perf_counter() - start < 3.0


def test_parse_html_on_pathological_markup_is_fast() -> None:
    for data in (b"<p>" + b"<b>x" * 100_000, b"<table>" + b"<tr><td>x" * 50_000, b"<" * MB):
        start = time.perf_counter()
        try:
            html_text.parse_html(data)
        except ValueError:
            pass
        assert time.perf_counter() - start < 5.0
