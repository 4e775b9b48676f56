"""The per-claim support check (rag.claims): facts that must appear, quotes per claim, moves, and the labelled
SQuAD-derived claims of tests/data/support_claims.jsonl (a held-out sample written by bench/support_check.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rag
from rag.claims import ClaimChecker, is_heading, missing_facts, passage_sentences

SUBSET = Path(__file__).parent / "data" / "support_claims.jsonl"

LUKASHENKO = ("Belarus, ruled by Lukashenko since 1994, borders both Ukraine and Russia. Increasingly isolated after "
              "violently suppressing mass protests in 2020, Lukashenko has become more dependent on Russia.")
NATO = ("Russia Launches Belarus Military Drills\n\nNATO has called Russia's drills in Belarus particularly alarming, "
        "saying they marked a \"dangerous\" moment for Europe. The West fears an attack on Ukraine.")
MAKEI = ("Belarus's foreign minister Vladimir Makei said Wednesday that not a single Russian soldier will remain. "
         "\"Not a single soldier will stay,\" Makei told a press conference in the capital Minsk.")


def passage(pid: str, text: str, start: int = 0) -> rag.Passage:
    return rag.Passage(pid, "seed.txt", "Russia Launches Belarus Military Drills", None, text, start,
                       start + len(text), 1.0)


@pytest.fixture(scope="module")
def checker(embedder) -> ClaimChecker:
    return ClaimChecker(embedder, [passage("p1", MAKEI), passage("p2", NATO), passage("p3", LUKASHENKO)])


def test_numbers_and_names_must_appear_in_the_cited_text() -> None:
    assert missing_facts("Lukashenko has ruled Belarus since 1996", LUKASHENKO) == ["1996"]
    assert missing_facts("Lukashenko has ruled Belarus since 1994", LUKASHENKO) == []
    assert missing_facts("King Louis signed it", "King Charles III signed it") == ["louis"]
    assert missing_facts("The attache went to Eastern Ukraine", "drills in Western Ukraine") == ["eastern"]
    # inflection, possessives, number words and thousands separators are the same fact
    assert missing_facts("Belarusian troops and three tanks", "Belarus sent 3 tanks") == []
    assert missing_facts("Russia's 1,000 soldiers", "1000 Russian soldiers") == []
    # sentence openers are not names
    assert missing_facts("However, according to the passages, the drills ended", "The drills ended.") == []


def test_headings_are_never_quotes_and_overlap_sentences_belong_to_both_chunks(checker: ClaimChecker) -> None:
    assert is_heading("Russia Launches Belarus Military Drills") and is_heading("## Reactions")
    assert not is_heading("NATO called the drills alarming.")
    [verdict] = checker.check("NATO said Russia's drills in Belarus are alarming", [1])
    assert verdict.supported and verdict.quote.text.startswith("NATO has called")
    shared = "Makei told a press conference in Minsk."
    chunks = [passage("a", "First sentence here. " + shared, 0), passage("b", shared + " Third one here.", 21)]
    sentences = passage_sentences(chunks)
    assert [s.passage for s in sentences if s.text == shared] == [0, 1]
    assert {(s.start, s.end) for s in sentences if s.text == shared} == {(21, 21 + len(shared))}


def test_each_claim_quotes_its_own_sentence(checker: ClaimChecker) -> None:
    [first] = checker.check("Makei said not a single Russian soldier will remain", [0])
    [second] = checker.check("Makei spoke at a press conference in Minsk", [0])
    assert first.supported and second.supported
    assert first.quote.text.startswith("Belarus's foreign minister") and "press conference" in second.quote.text


def test_a_wrong_citation_moves_to_the_passage_that_supports_it(checker: ClaimChecker) -> None:
    [verdict] = checker.check("Lukashenko has ruled Belarus since 1994", [1])
    assert verdict.cited == 1 and verdict.passage == 2 and verdict.supported and "1994" in verdict.quote.text
    [flagged] = checker.check("Lukashenko has ruled Belarus since 1996", [2])  # no passage says 1996
    assert flagged.passage == 2 and not flagged.supported


def test_a_multi_passage_citation_judges_each_passage(checker: ClaimChecker) -> None:
    both = checker.check("Makei said no Russian soldier will remain, and Lukashenko has ruled since 1994", [0, 2],
                         move=False)
    assert [v.supported for v in both] == [True, True]
    extra = checker.check("NATO called the drills particularly alarming", [1, 2], move=False)
    assert [v.supported for v in extra] == [True, False]


def load_subset() -> list[dict]:
    return [json.loads(line) for line in SUBSET.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_labelled_squad_claims_are_flagged_as_the_benchmark_says(embedder) -> None:
    """60 held-out claims (20 correct, 20 cited to another retrieved paragraph, 20 with a number or name swapped);
    the benchmark's targets on 1,000+ claims are >= 90% / >= 80% flagged and <= 5% of correct ones."""
    flagged: dict[str, list[bool]] = {"correct": [], "wrong": [], "swapped": []}
    for item in load_subset():
        passages = [rag.Passage(p["id"], p["id"], p["title"], None, p["text"], 0, len(p["text"]), 1.0)
                    for p in item["passages"]]
        [verdict] = ClaimChecker(embedder, passages).check(item["claim"], [item["cited"]])
        flagged[item["label"]].append(not verdict.supported or verdict.passage != item["cited"])
    assert len(flagged["correct"]) == len(flagged["wrong"]) == len(flagged["swapped"]) == 20
    assert sum(flagged["correct"]) <= 1
    assert sum(flagged["wrong"]) >= 18
    assert sum(flagged["swapped"]) >= 16
