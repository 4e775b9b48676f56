"""The BM25 side searches the question less its question words (rag.keywords, issue 15): a page that
holds many "what", "did" and "how many" is not ranked above the page that holds the question's subject."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag
from conftest import write_corpus
from rag.keywords import keywords

PAGES = {  # made up: a page of visitors' questions, the page that answers, and two others
    "visitor-questions.md": "# Visitor questions\n\nWhat did you see at the fair? What did you hear there? How many "
                            "times did you come, and how many friends did you bring? What was it like? What did you "
                            "eat, and how much did it cost?\n",
    "minutes.md": "# Minutes of the spring meeting\n\nThe council voted to close the old bridge in March. Forty "
                  "members were present and most of them voted in favour.\n",
    "orchard.md": "# The orchard\n\nThe orchard north of the town grows apples and pears. It is open to visitors in "
                  "autumn, when the fruit is picked.\n",
    "museum.md": "# The town museum\n\nThe museum shows the history of the town, its mills and its river trade. "
                 "Entry is free on Sundays.\n",
}
QUESTION = "What did the council vote for, and how many members did it have?"


def test_question_words_are_left_out() -> None:
    assert keywords(QUESTION).split() == ["the", "council", "vote", "for,", "and", "members", "it", "?"]
    assert keywords("How much did the bridge cost?").split() == ["the", "bridge", "cost?"]
    assert keywords("What kind of rock is basalt, and what was the name of the quarry called?").split() == [
        "of", "rock", "basalt,", "and", "the", "of", "the", "quarry", "?"]
    # a sentence's first word asks, whatever comes before; so does every word of a question in capitals
    assert keywords("Q: What is Rome?").split() == ["Q:", "Rome?"]
    assert keywords("1. Where is Rome?").split() == ["1.", "Rome?"]
    assert keywords("1) Where is Rome?").split() == ["1)", "Rome?"]
    assert keywords("Which kinds of rock are there?").split() == ["of", "rock", "there?"]
    assert keywords("I read about Rome. When did it fall?").split() == ["I", "read", "about", "Rome.", "it", "fall?"]
    assert keywords("HOW MANY PLANETS ARE THERE?").split() == ["PLANETS", "THERE?"]


def test_words_that_describe_stay() -> None:
    # in a name: capitalised past a sentence's first word
    assert keywords("Which band is The Who?").split() == ["band", "The", "Who?"]
    assert keywords("What's Kind of Blue?").split() == ["'s", "Kind", "of", "Blue?"]
    assert keywords("Kind of Blue was recorded by whom?").split() == ["Kind", "of", "Blue", "recorded", "by", "?"]
    assert keywords("Which Kind of Blue track is longest?").split() == ["Kind", "of", "Blue", "track", "longest?"]
    # an acronym, a word after an abbreviation, a word of a hyphenated compound
    assert keywords("WHO declared it a pandemic on what date?").split() == ["WHO", "declared", "it", "a", "pandemic",
                                                                            "on", "date?"]
    assert keywords("Who starred in Dr. Who and the Daleks?").split() == ["starred", "in", "Dr.", "Who", "and", "the",
                                                                          "Daleks?"]
    assert keywords("What is a how-to guide?").split() == ["a", "how-to", "guide?"]
    # words that ask only in a phrase
    assert keywords("What is a type 2 diabetes treatment?").split() == ["a", "type", "2", "diabetes", "treatment?"]
    assert keywords("What type 2 diabetes drug was approved?").split() == ["type", "2", "diabetes", "drug",
                                                                           "approved?"]
    assert keywords("who is the person called the kind one?").split() == ["the", "person", "called", "the", "kind",
                                                                         "one?"]
    assert keywords("Which interpretation is many-worlds?").split() == ["interpretation", "many-worlds?"]


def test_a_question_of_question_words_is_searched_whole() -> None:
    # nothing the index would search is left without them ("it" and "is" are the index's stopwords)
    for question in ("Who is who?", "What is it?", "What does it do?", "", "???"):
        assert keywords(question) == question


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    root = tmp_path_factory.mktemp("town")
    rag.open_index(root / "index", embedder=embedder).ingest(write_corpus(root / "corpus", PAGES), progress=False)
    return root / "index"


def test_bm25_finds_the_subject_not_the_question_words(town: Path, embedder) -> None:
    def first(**settings) -> str:
        index = rag.open_index(town, embedder=embedder, mode="lexical", **settings)
        return index.search(QUESTION, k=3)[0].document

    assert first(question_words=True) == "visitor-questions.md"  # the case: BM25 rewards "what", "did", "how many"
    assert first() == "minutes.md"


def test_hybrid_search_ranks_the_answering_page_first(town: Path, embedder) -> None:
    index = rag.open_index(town, embedder=embedder)
    assert index.search(QUESTION, k=3)[0].document == "minutes.md"
