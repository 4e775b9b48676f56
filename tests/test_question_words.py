"""The BM25 side searches the question less its question words (rag.retrieval.keywords, issue 15): a page that
holds many "what", "did" and "how many" is not ranked above the page that holds the question's subject."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag
from conftest import write_corpus
from rag.retrieval import keywords

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
    # in a name they stay: past the first word and capitalised
    assert keywords("Which band is The Who?").split() == ["band", "The", "Who?"]
    assert keywords("What's Kind of Blue?").split() == ["'s", "Kind", "of", "Blue?"]
    # a question of question words only is searched whole
    assert keywords("Who is who?") == "Who is who?"
    assert keywords("") == ""


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
