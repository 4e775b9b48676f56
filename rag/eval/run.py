"""Run a question set against an index and score every answer: the engine behind `rag eval`.

    qset = load_questions("eval/seeds.jsonl")            # JSONL or CSV; bad lines reported, the rest kept
    index, _ = open_eval_index("seeds")                  # .rag if built from seeds/, else .rag/eval-indexes/<sha>/
    records = evaluate(index, qset.questions)             # one dict per question (per_question.jsonl)
    metrics = summarize_records(records)                  # {"recall@1": {"value", "n", "ci_low", "ci_high"}, ...}

Per question, retrieval is scored on `index.search(question, k=max(10, k))` and the answer on
`index.ask(question)` (k passages), timed alone. Which questions each metric applies to is in METRICS and
eval/README.md. The metric arithmetic itself lives in rag.eval.metrics (pure functions).
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag import ConfigError, RagError
from rag.eval import metrics as M
from rag.eval.questions import EvalQuestion

if TYPE_CHECKING:
    from rag import Index, IngestReport

RETRIEVAL_K = 10  # passages searched per question for the retrieval metrics
RECORD_PASSAGE_FIELDS = ("id", "document", "score", "dense_score", "text")  # an answer's passages in a record

# name -> (applies to, higher is better). The order is the order of every table.
METRICS: dict[str, tuple[str, bool]] = {
    "recall@1": ("questions with gold sources", True),
    "recall@5": ("questions with gold sources", True),
    "recall@10": ("questions with gold sources", True),
    "mrr@10": ("questions with gold sources", True),
    "ndcg@10": ("questions with gold sources", True),
    "answer_contains": ("answerable questions with gold answers (a refusal scores 0)", True),
    "exact_match": ("answerable questions with gold answers (a refusal scores 0)", True),
    "f1": ("answerable questions with gold answers (a refusal scores 0)", True),
    "citation_precision": ("answerable questions with gold sources whose answer has citations", True),
    "citation_recall": ("answerable questions with gold sources (a refusal scores 0)", True),
    "claims_supported": ("answers not refused that state a claim (share of their claims the passages support)", True),
    "citations_supported": ("answers not refused with a citation (share of citations supporting their claim)", True),
    "refusal_accuracy": ("unanswerable questions", True),
    "false_refusal_rate": ("answerable questions", False),
    "latency_p50_ms": ("every question answered without error", False),
    "latency_p95_ms": ("every question answered without error", False),
    "faithfulness": ("answers not refused (LLM judge)", True),
    "correctness": ("answerable questions (LLM judge; a refusal scores 0)", True),
}
LATENCY = ("latency_p50_ms", "latency_p95_ms")
PER_QUESTION = [name for name in METRICS if name not in LATENCY]


# --- indexes -------------------------------------------------------------------------------------


def eval_index_dir(corpus: str | Path, base: str | Path) -> Path:
    """`<base>/eval-indexes/<sha of the resolved corpus path>/`: one index per corpus, reused across runs."""
    digest = hashlib.sha256(str(Path(corpus).resolve()).encode()).hexdigest()[:16]
    return Path(base) / "eval-indexes" / digest


def open_eval_index(corpus: str | Path, base: str | Path | None = None, embedder: Any = None,
                    progress: bool = True, **settings: Any) -> tuple[Index, IngestReport]:
    """Open the index to evaluate `corpus` on and bring it in line with the corpus.

    That is the index in `base` itself when it is a local index built from `corpus` alone with these settings
    (`Index.built_from`): nothing is built twice. Otherwise the evaluation's own local index under
    `eval_index_dir(corpus, base)` (any Chroma server setting is ignored), base being the index folder setting
    (default .rag). Ingestion is incremental, so an unchanged corpus costs a look at each file's size and mtime.
    """
    import rag

    corpus = Path(corpus)
    if not corpus.exists():
        raise ConfigError(f"corpus not found: {corpus}")
    base = Path(base) if base is not None else rag.Settings().index_dir
    local = {**settings, "chroma_url": None, "corpus": corpus}
    index = _existing_index_of(corpus, base, embedder, local)
    if index is None:
        index = rag.open_index(eval_index_dir(corpus, base), embedder=embedder, **local)
    report = index.ingest(corpus, progress=progress)
    return index, report


def _existing_index_of(corpus: Path, base: Path, embedder: Any, settings: dict) -> Index | None:
    """The local index in `base` when it was built from `corpus` with these settings, else None."""
    import rag

    if not ((base / "chroma").is_dir() and (base / "catalog.sqlite").is_file()):
        return None
    try:
        index = rag.open_index(base, embedder=embedder, **settings)
    except RagError:  # another embedding model, or not an index: the eval builds its own
        return None
    return index if index.built_from(corpus) else None


# --- scoring -------------------------------------------------------------------------------------


def score_question(q: EvalQuestion, answer_text: str, refused: bool, cited_docs: list[str],
                   retrieved_docs: list[str], support: dict | None = None) -> dict[str, float | None]:
    """Every per-question metric of one answer; None where a metric does not apply (see METRICS).

    `cited_docs`: the document of each citation; `retrieved_docs`: the document of each searched passage,
    best first; `support`: the answer's support summary (`Support.to_json()`). A refusal counts as an empty
    answer with no citation.
    """
    values: dict[str, float | None] = dict.fromkeys(PER_QUESTION)
    gold = set(q.sources)
    if gold:
        for k in (1, 5, 10):
            values[f"recall@{k}"] = M.recall_at_k(retrieved_docs, gold, k)
        values["mrr@10"] = M.mrr_at_k(retrieved_docs, gold, 10)
        values["ndcg@10"] = M.ndcg_at_k(retrieved_docs, gold, 10)
    prediction = "" if refused else answer_text
    cites = [] if refused else list(cited_docs)
    if q.answerable and q.answers:
        values["answer_contains"] = M.answer_contains(prediction, q.answers)
        values["exact_match"] = M.exact_match(prediction, q.answers)
        values["f1"] = M.f1_score(prediction, q.answers)
    if q.answerable and gold:
        values["citation_precision"] = M.citation_precision(cites, gold)
        values["citation_recall"] = M.citation_recall(cites, gold)
    if support and not refused:
        if support["claims"]:
            values["claims_supported"] = support["claims_supported"] / support["claims"]
        if support["citations"]:
            values["citations_supported"] = support["citations_supported"] / support["citations"]
    if q.answerable:
        values["false_refusal_rate"] = float(refused)
    else:
        values["refusal_accuracy"] = float(refused)
    return values


def is_correct(q: EvalQuestion, values: dict[str, float | None], refused: bool) -> bool | None:
    """Right or wrong, for --compare's flips: an unanswerable question is right when refused; an answerable
    one when the answer contains a gold answer (None when it has no gold answer to check)."""
    if not q.answerable:
        return refused
    contains = values.get("answer_contains")
    return None if contains is None else contains == 1.0


def evaluate(index: Index, questions: list[EvalQuestion], k: int | None = None, mode: str | None = None,
             judge: Any = None, progress: bool = True, warmup: bool = True,
             on_record: Callable[[dict], None] | None = None) -> list[dict]:
    """Ask every question; return one record per question (the lines of per_question.jsonl).

    `judge`: an eval_judge.Judge or None. `warmup`: ask the first question once, untimed, before the run
    (offline answering only) so the latency figures are warm.
    """
    from tqdm import tqdm

    k = k or index.settings.top_k
    mode = mode or index.settings.mode
    offline = not index.settings.model
    if warmup and offline and questions:
        index.search(questions[0].question, k=max(RETRIEVAL_K, k), mode=mode)
        index.ask(questions[0].question, k=k, mode=mode)
    records = []
    bar = tqdm(questions, desc="Evaluating", unit="q", file=sys.stderr, disable=not progress,
               mininterval=0.5 if sys.stderr.isatty() else 10)
    right = 0
    for q in bar:
        record = _run_one(index, q, k, mode, judge)
        records.append(record)
        right += bool(record["correct"])
        bar.set_postfix(correct=f"{right / len(records):.0%}", refresh=False)
        if on_record:
            on_record(record)
    bar.close()
    return records


def _run_one(index: Index, q: EvalQuestion, k: int, mode: str, judge: Any) -> dict:
    record: dict[str, Any] = {
        "id": q.id, "question": q.question, "answerable": q.answerable, "gold_answers": q.answers,
        "gold_sources": q.sources, "answer": "", "refused": False, "answer_mode": None, "notice": None,
        "citations": [], "support": None, "passages": [], "retrieved": [], "latency_ms": None,
        "metrics": dict.fromkeys(PER_QUESTION), "correct": None, "judge": None, "error": None, "extra": q.extra,
    }
    try:
        started = time.perf_counter()  # the answer first, so that it meets the question fresh, as a user's would
        answer = index.ask(q.question, k=k, mode=mode)
        latency = (time.perf_counter() - started) * 1000
        retrieved = index.search(q.question, k=max(RETRIEVAL_K, k), mode=mode)
    except RagError as exc:
        record["error"] = str(exc)
        return record
    record.update({
        "answer": answer.text, "refused": answer.refused, "answer_mode": answer.mode, "notice": answer.notice,
        "citations": [{"n": c.n, "document": c.document, "passage_id": c.passage_id, "quote": c.quote,
                       "start": c.start, "end": c.end, "inferred": c.inferred, "supported": c.supported,
                       "moved_from": c.moved_from} for c in answer.citations],
        "support": answer.support.to_json() if answer.support else None,
        "passages": [p.to_json(RECORD_PASSAGE_FIELDS) for p in answer.passages],
        "retrieved": [p.document for p in retrieved],
        "latency_ms": round(latency, 2),
    })
    values = score_question(q, answer.text, answer.refused, [c.document for c in answer.citations],
                            record["retrieved"], record["support"])
    if judge is not None:
        verdict = judge.judge(q, answer)
        record["judge"] = verdict
        values["faithfulness"], values["correctness"] = verdict.get("faithfulness"), verdict.get("correctness")
    record["metrics"] = values
    record["correct"] = is_correct(q, values, answer.refused)
    return record


# --- aggregation ---------------------------------------------------------------------------------


def _entry(summary: M.MetricSummary) -> dict:
    r = lambda v: None if v is None else round(v, 4)  # noqa: E731
    return {"value": r(summary.value), "n": summary.n, "ci_low": r(summary.ci_low), "ci_high": r(summary.ci_high)}


def summarize_records(records: list[dict]) -> dict[str, dict]:
    """Each metric: mean over the questions it applies to, their count `n`, and a 95% bootstrap CI of the mean
    (latency: the percentile, no CI). Questions that failed with an error count nowhere."""
    out: dict[str, dict] = {}
    latencies = [r["latency_ms"] for r in records if r["latency_ms"] is not None]
    for name in METRICS:
        if name in LATENCY:
            q = 50 if name == "latency_p50_ms" else 95
            value = M.percentile(latencies, q)
            out[name] = {"value": None if value is None else round(value, 1), "n": len(latencies),
                         "ci_low": None, "ci_high": None}
        else:
            out[name] = _entry(M.summarize(name, [r["metrics"].get(name) for r in records]))
    return out


def recall_curve(records: list[dict], max_k: int = RETRIEVAL_K) -> list[dict]:
    """Document-level recall@k for k = 1..max_k, over the questions with gold sources."""
    scored = [r for r in records if r["gold_sources"] and r["error"] is None]
    curve = []
    for k in range(1, max_k + 1):
        values = [M.recall_at_k(r["retrieved"], set(r["gold_sources"]), k) for r in scored]
        curve.append({"k": k, "value": round(sum(values) / len(values), 4) if values else None})
    return curve
