"""Evaluation metrics for `rag eval`: pure functions, no I/O.

Answer metrics (answerable questions only; with no golds they return 0.0 and callers skip them).
The prediction first goes through `strip_citation_markers`, then both sides through
`normalize_answer` (the official SQuAD v1.1 normalization: lower-case, drop every character of
`string.punctuation`, drop the whole words a/an/the, collapse whitespace).

    exact_match         max over golds of [norm(pred) == norm(gold)]
    f1                  max over golds of SQuAD token F1: common = multiset intersection of tokens,
                        P = |common|/|pred tokens|, R = |common|/|gold tokens|, F1 = 2PR/(P+R); 0 if no common token
    answer_contains     1.0 if some gold, non-empty after normalization, satisfies f" {g} " in f" {p} "
                        (a whole-token substring of the normalized prediction), else 0.0

Retrieval metrics. `ranked_doc_ids` is the document id of each retrieved passage, best first; it may
repeat a document (several passages of one document). `gold` is the set of gold document ids.

    recall@k            1.0 if any of the first k passages is from a gold document, else 0.0
    mrr@k               1/r for the passage rank r (1-based, within the first k) of the first gold passage, else 0.0
    ndcg@k              binary relevance per document: dedupe the ids keeping first occurrence, then
                        DCG = sum over gold docs at deduped rank r <= k of 1/log2(r+1),
                        IDCG = sum_{r=1}^{min(|gold|, k)} 1/log2(r+1), nDCG = DCG/IDCG (0.0 if no gold)

Citation metrics (`cited_doc_ids`: the document id of each citation in the answer, repeats counted).

    citation_precision  (# citations to a gold document) / (# citations); None when there are none
    citation_recall     1.0 if at least one citation is to a gold document, else 0.0

Support metrics are read by the caller from the answer's support summary (rag.claims, per-claim check):
    claims_supported    claims the passages support / claims, per answer not refused
    citations_supported citations whose passage supports their claim as written / citations, per answer

Refusal metrics are means over 0/1 per-question values built by the caller:
    refusal_accuracy    over unanswerable questions: 1.0 if the system refused
    false_refusal_rate  over answerable questions: 1.0 if the system refused

Aggregation.

    percentile          numpy's linear-interpolation percentile, q in [0, 100]; None on empty input
                        (latency_p50_ms = percentile(latencies, 50), latency_p95_ms = percentile(latencies, 95))
    bootstrap_ci        percentile bootstrap of the mean: draw n_resamples samples of size n with
                        replacement (numpy default_rng(seed)), take the (1-c)/2 and (1+c)/2 percentiles
                        of the resampled means; None if fewer than 2 values
    paired_bootstrap_diff  mean(b) - mean(a) over paired per-question values and bootstrap_ci of b[i] - a[i]
    summarize           drops None values (metric did not apply), then mean, count and bootstrap_ci
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from rag.citations import strip_markers

__all__ = [
    "MetricSummary",
    "answer_contains",
    "bootstrap_ci",
    "citation_precision",
    "citation_recall",
    "exact_match",
    "f1_score",
    "mrr_at_k",
    "ndcg_at_k",
    "normalize_answer",
    "paired_bootstrap_diff",
    "percentile",
    "recall_at_k",
    "strip_citation_markers",
    "summarize",
]

_PUNCT = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
# One or more markers such as [1], [1, 3], [2][3], [2] [3], [1-2], with the whitespace before them,
# and any whitespace after them when punctuation follows ("Makei [1] ." -> "Makei.").


# --- answers -------------------------------------------------------------------------------------


def normalize_answer(s: str) -> str:
    """The official SQuAD v1.1 `normalize_answer`."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCT)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def strip_citation_markers(s: str) -> str:
    """Remove citation markers like [1], [1, 3], [2][3] and the space they leave before punctuation."""
    return strip_markers(s)


def _clean(prediction: str) -> str:
    return normalize_answer(strip_citation_markers(prediction))


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 if the normalized prediction equals some normalized gold, else 0.0 (0.0 with no golds)."""
    pred = _clean(prediction)
    return max((float(pred == normalize_answer(g)) for g in golds), default=0.0)


def _token_f1(pred_tokens: list[str], gold_tokens: list[str]) -> float:
    common = Counter(pred_tokens) & Counter(gold_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(pred_tokens)
    recall = num_same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def f1_score(prediction: str, golds: Sequence[str]) -> float:
    """SQuAD token F1, max over golds (0.0 with no golds)."""
    pred_tokens = _clean(prediction).split()
    return max((_token_f1(pred_tokens, normalize_answer(g).split()) for g in golds), default=0.0)


def answer_contains(prediction: str, golds: Sequence[str]) -> float:
    """1.0 if some non-empty normalized gold occurs as whole tokens in the normalized prediction."""
    padded = f" {_clean(prediction)} "
    for g in golds:
        norm = normalize_answer(g)
        if norm and f" {norm} " in padded:
            return 1.0
    return 0.0


# --- retrieval -----------------------------------------------------------------------------------


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")


def recall_at_k(ranked_doc_ids: Sequence[str], gold: Collection[str], k: int) -> float:
    """1.0 if a passage from a gold document is among the top k passages, else 0.0."""
    _check_k(k)
    gold_set = set(gold)
    return float(any(d in gold_set for d in ranked_doc_ids[:k]))


def mrr_at_k(ranked_doc_ids: Sequence[str], gold: Collection[str], k: int = 10) -> float:
    """1/rank of the first passage among the top k whose document is gold, else 0.0."""
    _check_k(k)
    gold_set = set(gold)
    for rank, d in enumerate(ranked_doc_ids[:k], start=1):
        if d in gold_set:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked_doc_ids: Sequence[str], gold: Collection[str], k: int = 10) -> float:
    """Binary document-level nDCG@k over the order-preserving deduplicated ranking."""
    _check_k(k)
    gold_set = set(gold)
    if not gold_set:
        return 0.0
    deduped = list(dict.fromkeys(ranked_doc_ids))[:k]
    dcg = sum(1.0 / np.log2(r + 1) for r, d in enumerate(deduped, start=1) if d in gold_set)
    idcg = sum(1.0 / np.log2(r + 1) for r in range(1, min(len(gold_set), k) + 1))
    return float(dcg / idcg)


# --- citations -----------------------------------------------------------------------------------


def citation_precision(cited_doc_ids: Sequence[str], gold: Collection[str]) -> float | None:
    """Share of citations whose document is gold; None when there are no citations."""
    if not cited_doc_ids:
        return None
    gold_set = set(gold)
    return sum(d in gold_set for d in cited_doc_ids) / len(cited_doc_ids)


def citation_recall(cited_doc_ids: Sequence[str], gold: Collection[str]) -> float:
    """1.0 if at least one citation is to a gold document, else 0.0."""
    gold_set = set(gold)
    return float(any(d in gold_set for d in cited_doc_ids))


# --- aggregation ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """numpy linear-interpolation percentile (q in [0, 100]); None on empty input."""
    if len(values) == 0:
        return None
    return float(np.percentile(np.asarray(values, dtype=float), q, method="linear"))


def bootstrap_ci(
    values: Sequence[float], n_resamples: int = 1000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float] | None:
    """Percentile-bootstrap confidence interval of the mean; None if fewer than 2 values."""
    if len(values) < 2:
        return None
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    arr = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(arr), size=(n_resamples, len(arr)))
    means = arr[idx].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.percentile(means, [100.0 * alpha, 100.0 * (1.0 - alpha)])
    return float(low), float(high)


def paired_bootstrap_diff(
    a: Sequence[float],
    b: Sequence[float],
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, tuple[float, float]] | None:
    """mean(b) - mean(a) over paired values and its bootstrap CI; None if fewer than 2 pairs."""
    if len(a) != len(b):
        raise ValueError(f"paired values differ in length: {len(a)} vs {len(b)}")
    diffs = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    ci = bootstrap_ci(diffs.tolist(), n_resamples, confidence, seed)
    if ci is None:
        return None
    return float(diffs.mean()), ci


@dataclass(frozen=True)
class MetricSummary:
    """One report entry: mean over the questions the metric applied to, their count, and a CI."""

    name: str
    value: float | None
    n: int
    ci_low: float | None
    ci_high: float | None


def summarize(name: str, values: Sequence[float | None]) -> MetricSummary:
    """Mean, count and bootstrap CI of the values that are not None."""
    kept = [float(v) for v in values if v is not None]
    if not kept:
        return MetricSummary(name, None, 0, None, None)
    low, high = bootstrap_ci(kept) or (None, None)
    return MetricSummary(name, float(np.mean(kept)), len(kept), low, high)
