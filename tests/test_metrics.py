"""Hand-worked checks of rag.eval.metrics; every expected number can be verified by eye."""

from __future__ import annotations

import math

import pytest

from rag.eval.metrics import (
    MetricSummary,
    answer_contains,
    bootstrap_ci,
    citation_precision,
    citation_recall,
    exact_match,
    f1_score,
    mrr_at_k,
    ndcg_at_k,
    normalize_answer,
    paired_bootstrap_diff,
    percentile,
    recall_at_k,
    strip_citation_markers,
    summarize,
)

# --- normalization -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("The  Denver Broncos!", "denver broncos"),
        ("an apple", "apple"),
        ("A   cat, the dog.", "cat dog"),
        ("theater", "theater"),  # article inside a word stays
        ("Anthem of a nation", "anthem of nation"),
        ("1990–2000", "1990–2000"),  # en dash is not in string.punctuation: kept
        ("“quoted”", "“quoted”"),  # curly quotes are not in string.punctuation either
        ("don't", "dont"),  # apostrophe removed, not turned into a space
        ("U.S.A.", "usa"),
        ("", ""),
    ],
)
def test_normalize_answer(raw: str, expected: str) -> None:
    assert normalize_answer(raw) == expected


def test_punctuation_removed_before_articles() -> None:
    # "the-end" -> "theend" (hyphen dropped first), so "the" is no longer a whole word.
    assert normalize_answer("the-end") == "theend"
    # "(the) end" -> "the end" -> " end" -> "end"
    assert normalize_answer("(the) end") == "end"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Vladimir Makei [1].", "Vladimir Makei."),
        ("Makei [1, 3] said so [2][3].", "Makei said so."),
        ("Makei [2] [3], then", "Makei, then"),
        ("Makei [1] .", "Makei."),
        ("[1] Makei", "Makei"),
        ("No markers here.", "No markers here."),
        ("List [a] stays", "List [a] stays"),
    ],
)
def test_strip_citation_markers(raw: str, expected: str) -> None:
    assert strip_citation_markers(raw) == expected


# --- exact match / F1 ----------------------------------------------------------------------------


def test_exact_match_basic() -> None:
    assert exact_match("The Denver Broncos!", ["denver broncos"]) == 1.0
    assert exact_match("an apple", ["apple"]) == 1.0
    assert exact_match("Denver", ["Denver Broncos"]) == 0.0


def test_exact_match_max_over_golds_and_empty() -> None:
    assert exact_match("Broncos", ["Denver Broncos", "the Broncos"]) == 1.0
    assert exact_match("Broncos", []) == 0.0


def test_citation_markers_stripped_before_scoring() -> None:
    assert exact_match("Vladimir Makei [1].", ["Vladimir Makei"]) == 1.0
    assert f1_score("Vladimir Makei [1][2].", ["Vladimir Makei"]) == 1.0
    # Without stripping, "[1]" would have become the token "1".
    assert normalize_answer("Vladimir Makei [1].") == "vladimir makei 1"


def test_f1_partial_overlap() -> None:
    # pred tokens {denver, broncos, won}, gold {denver, broncos}: P = 2/3, R = 1, F1 = 2*(2/3)/(5/3) = 0.8
    assert f1_score("Denver Broncos won", ["Denver Broncos"]) == pytest.approx(0.8)
    # pred {broncos}, gold {denver, broncos}: P = 1, R = 1/2, F1 = 2/3
    assert f1_score("Broncos", ["Denver Broncos"]) == pytest.approx(2 / 3)


def test_f1_counts_repeated_tokens_once_per_match() -> None:
    # pred [a1 a1 a1] vs gold [a1]: common = 1, P = 1/3, R = 1, F1 = 0.5
    assert f1_score("paris paris paris", ["paris"]) == pytest.approx(0.5)


def test_f1_no_common_tokens_and_empty() -> None:
    assert f1_score("Carolina Panthers", ["Denver Broncos"]) == 0.0
    assert f1_score("", ["Denver Broncos"]) == 0.0
    assert f1_score("Denver", []) == 0.0
    # Prediction made only of articles normalizes to nothing.
    assert f1_score("the", ["Denver"]) == 0.0


def test_f1_max_over_golds() -> None:
    # vs "Denver Broncos": 0.8; vs "Broncos won the game" -> {broncos, won, game}: common 2,
    # P = 2/3, R = 2/3, F1 = 2/3; vs "Panthers": 0.  Max = 0.8.
    golds = ["Panthers", "Broncos won the game", "Denver Broncos"]
    assert f1_score("Denver Broncos won", golds) == pytest.approx(0.8)


# --- answer_contains -----------------------------------------------------------------------------


def test_answer_contains_whole_tokens() -> None:
    assert answer_contains("Vladimir Makei said", ["Makei"]) == 1.0
    assert answer_contains("Vladimir Makei said", ["Mak"]) == 0.0
    assert answer_contains("Vladimir Makei said", ["vladimir makei"]) == 1.0
    assert answer_contains("Vladimir Makei said", ["Makei Vladimir"]) == 0.0
    assert answer_contains("It was Makei [1].", ["The Makei"]) == 1.0


def test_answer_contains_ignores_empty_golds() -> None:
    # "The" normalizes to "" which would otherwise match everything.
    assert answer_contains("anything", ["The", "!!"]) == 0.0
    assert answer_contains("anything", []) == 0.0
    assert answer_contains("say anything", ["The", "anything"]) == 1.0


# --- retrieval -----------------------------------------------------------------------------------

RANKED = ["d3", "d3", "d1", "d4", "d2"]  # document id of each retrieved passage, best first


def test_recall_at_k_cutoffs() -> None:
    gold = {"d1"}  # first gold passage is at rank 3
    assert recall_at_k(RANKED, gold, 1) == 0.0
    assert recall_at_k(RANKED, gold, 2) == 0.0  # top 2 passages are both from d3
    assert recall_at_k(RANKED, gold, 3) == 1.0
    assert recall_at_k(RANKED, gold, 10) == 1.0
    assert recall_at_k(RANKED, ["d9"], 10) == 0.0
    assert recall_at_k(RANKED, set(), 10) == 0.0
    assert recall_at_k([], {"d1"}, 5) == 0.0


def test_recall_rejects_bad_k() -> None:
    with pytest.raises(ValueError):
        recall_at_k(RANKED, {"d1"}, 0)


def test_mrr_counts_passage_ranks_with_duplicate_documents() -> None:
    assert mrr_at_k(RANKED, {"d1"}) == pytest.approx(1 / 3)  # duplicates of d3 take ranks 1 and 2
    assert mrr_at_k(RANKED, {"d3"}) == 1.0
    assert mrr_at_k(RANKED, {"d2", "d4"}) == pytest.approx(1 / 4)  # first gold passage wins
    assert mrr_at_k(RANKED, {"d2"}, k=4) == 0.0  # rank 5 is beyond the cutoff
    assert mrr_at_k(RANKED, {"d9"}) == 0.0


def test_ndcg_two_golds_at_ranks_1_and_3() -> None:
    ranked = ["g1", "x", "g2", "y"]
    expected = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))  # = 1.5 / 1.6309... = 0.9197...
    assert ndcg_at_k(ranked, {"g1", "g2"}) == pytest.approx(expected)
    assert expected == pytest.approx(0.91972, abs=1e-5)


def test_ndcg_dedupes_documents() -> None:
    # Deduped: [g1, x, g2] -> same as above, the repeated g1 neither helps nor pushes g2 down.
    ranked = ["g1", "g1", "x", "g1", "g2"]
    expected = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(ranked, {"g1", "g2"}) == pytest.approx(expected)


def test_ndcg_edge_cases() -> None:
    assert ndcg_at_k(["g1", "x"], {"g1"}) == 1.0
    # Single gold at rank 2: (1/log2 3) / 1
    assert ndcg_at_k(["x", "g1"], {"g1"}) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(["x", "y"], {"g1"}) == 0.0
    assert ndcg_at_k(["g1"], set()) == 0.0
    # Three golds, k = 2: ideal is two hits; both found at ranks 1 and 2 -> 1.0
    assert ndcg_at_k(["g1", "g2", "x"], {"g1", "g2", "g3"}, k=2) == 1.0
    # Gold beyond k (deduped rank 3, k = 2) does not count.
    assert ndcg_at_k(["x", "y", "g1"], {"g1"}, k=2) == 0.0


# --- citations -----------------------------------------------------------------------------------


def test_citation_precision() -> None:
    assert citation_precision(["d1", "d2", "d1", "d9"], {"d1"}) == pytest.approx(2 / 4)
    assert citation_precision(["d1"], ["d1", "d2"]) == 1.0
    assert citation_precision(["d9"], {"d1"}) == 0.0
    assert citation_precision([], {"d1"}) is None


def test_citation_recall() -> None:
    assert citation_recall(["d9", "d1"], {"d1", "d2"}) == 1.0
    assert citation_recall(["d9"], {"d1"}) == 0.0
    assert citation_recall([], {"d1"}) == 0.0


# --- aggregation ---------------------------------------------------------------------------------


def test_percentile_linear() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 50) == pytest.approx(25.0)  # halfway between 20 and 30
    # position 0.95 * 3 = 2.85 -> 30 + 0.85 * 10 = 38.5
    assert percentile(values, 95) == pytest.approx(38.5)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_bootstrap_ci_contains_mean_and_is_deterministic() -> None:
    values = [0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0]  # mean 0.7
    ci = bootstrap_ci(values, seed=42)
    assert ci is not None
    low, high = ci
    assert 0.0 <= low < 0.7 < high <= 1.0
    assert bootstrap_ci(values, seed=42) == ci
    narrower = bootstrap_ci(values, confidence=0.5, seed=42)
    assert narrower is not None
    assert low <= narrower[0] <= narrower[1] <= high


def test_bootstrap_ci_constant_and_small() -> None:
    assert bootstrap_ci([0.5, 0.5, 0.5]) == (0.5, 0.5)
    assert bootstrap_ci([1.0]) is None
    assert bootstrap_ci([]) is None


def test_paired_bootstrap_diff_sign() -> None:
    a = [0.0, 0.0, 1.0, 0.0, 1.0, 0.0]  # mean 1/3
    b = [1.0, 1.0, 1.0, 0.0, 1.0, 1.0]  # mean 5/6; b improves on a
    result = paired_bootstrap_diff(a, b)
    assert result is not None
    diff, (low, high) = result
    assert diff == pytest.approx(0.5)
    assert low <= diff <= high
    assert low >= 0.0  # every per-question difference is >= 0
    flipped = paired_bootstrap_diff(b, a)
    assert flipped is not None
    assert flipped[0] == pytest.approx(-0.5)
    assert flipped[1][1] <= 0.0


def test_paired_bootstrap_diff_edge_cases() -> None:
    assert paired_bootstrap_diff([1.0], [0.0]) is None
    assert paired_bootstrap_diff([0.2, 0.4], [0.2, 0.4]) == (0.0, (0.0, 0.0))
    with pytest.raises(ValueError):
        paired_bootstrap_diff([1.0, 0.0], [1.0])


def test_summarize_ignores_none() -> None:
    s = summarize("citation_precision", [1.0, None, 0.5, None, 0.0])
    assert s.name == "citation_precision"
    assert s.n == 3
    assert s.value == pytest.approx(0.5)
    assert s.ci_low is not None and s.ci_high is not None
    assert s.ci_low <= 0.5 <= s.ci_high


def test_summarize_empty_and_single() -> None:
    assert summarize("f1", [None, None]) == MetricSummary("f1", None, 0, None, None)
    assert summarize("f1", [0.25]) == MetricSummary("f1", 0.25, 1, None, None)
