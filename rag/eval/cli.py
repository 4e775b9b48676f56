"""The `rag eval` command: run a question set and write a report, or compare two runs.

    rag eval QUESTIONS [--corpus PATH] [--index DIR] [--model M] [--mode ...] [-k N] [--limit N] [--out DIR]
                       [--json] [--fail-under METRIC=VALUE ...] [--judge-model M]
    rag eval --compare RUN_A RUN_B [--json]
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

_THRESHOLD = re.compile(r"^[A-Za-z][\w@.]*=.+$")


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _usage(message: str) -> None:
    """A usage error: one line, exit code 2 (raised here, not through click, whose classes typer vendors)."""
    _err(f"usage error: {message}")
    sys.exit(2)


def register(app: typer.Typer) -> None:
    """Add the eval command to the `rag` app."""

    @app.command("eval")
    def eval_command(
        args: Annotated[Optional[list[str]], typer.Argument(
            metavar="QUESTIONS | RUN_A RUN_B",
            help="A question set (JSONL or CSV); with --compare, two run folders.")] = None,
        corpus: Annotated[Optional[Path], typer.Option(
            "--corpus", help="Evaluate on this folder or corpus.jsonl: the index in --index when it was built from it "
            "with the same settings, else the eval's own index (reused while unchanged); without it the app's index "
            "is used.")] = None,
        index: Annotated[Optional[Path], typer.Option(
            "--index", help="Index folder (default .rag, or RAG_INDEX_DIR); with --corpus, used when built from that "
            "corpus, else the eval index lives in DIR/eval-indexes/.")] = None,
        model: Annotated[Optional[str], typer.Option(
            "--model", help="litellm model string for the answers; unset answers offline (or RAG_MODEL).")] = None,
        mode: Annotated[Optional[str], typer.Option("--mode", help="hybrid, dense or lexical.")] = None,
        k: Annotated[Optional[int], typer.Option("-k", help="Passages per answer (default RAG_TOP_K, 5).")] = None,
        limit: Annotated[Optional[int], typer.Option("--limit", help="Only the first N questions.")] = None,
        out: Annotated[Optional[Path], typer.Option(
            "--out", help="Output folder (default eval/results/<set>-<timestamp>/).")] = None,
        json_out: Annotated[bool, typer.Option("--json", help="Print report.json instead of the table.")] = False,
        fail_under: Annotated[Optional[list[str]], typer.Option(
            "--fail-under", metavar="METRIC=VALUE",
            help="Exit 1 unless METRIC >= VALUE (<= for false_refusal_rate and latency_*). Repeat it, or list "
            "several after one --fail-under.")] = None,
        compare: Annotated[bool, typer.Option(
            "--compare", help="Compare two runs: rag eval --compare RUN_A RUN_B.")] = False,
        judge_model: Annotated[Optional[str], typer.Option(
            "--judge-model", help="litellm model that grades faithfulness and correctness (or RAG_JUDGE_MODEL); "
            "unset skips them.")] = None,
        chroma_url: Annotated[Optional[str], typer.Option(
            "--chroma-url", help="Chroma server of the app's index (ignored with --corpus).")] = None,
    ) -> None:
        """Run a question set and score retrieval, answers, citations and refusals; or compare two runs."""
        positional = list(args or [])
        if compare:
            if len(positional) != 2:
                _usage("--compare needs exactly two run folders: rag eval --compare RUN_A RUN_B")
            _compare(positional[0], positional[1], json_out)
            return
        thresholds_text = list(fail_under or [])
        extra = positional[1:]
        if extra and fail_under and all(_THRESHOLD.match(x) for x in extra):
            thresholds_text += extra  # --fail-under a=1 b=2: click hands b=2 over as a positional
        elif extra:
            _usage(f"one question set at a time (got also {' '.join(extra)})")
        if not positional:
            _usage("missing the question set: rag eval QUESTIONS (or --compare RUN_A RUN_B)")
        if mode is not None and mode not in ("hybrid", "dense", "lexical"):
            _usage(f"--mode must be hybrid, dense or lexical, not {mode!r}")
        if k is not None and not 1 <= k <= 100:
            _usage("-k must be between 1 and 100")
        if limit is not None and limit < 1:
            _usage("--limit must be at least 1")
        from rag import ConfigError
        from rag.eval.report import parse_threshold

        try:
            thresholds = [parse_threshold(t) for text in thresholds_text for t in text.split(",") if t.strip()]
        except ConfigError as exc:
            _usage(str(exc))
        failed = _run(Path(positional[0]), corpus, index, model, mode, k, limit, out, json_out, thresholds,
                      judge_model, chroma_url)
        if failed:
            sys.exit(1)


def _compare(run_a: str, run_b: str, json_out: bool) -> None:
    from rag.eval.compare import compare_runs, compare_text

    result = compare_runs(run_a, run_b)
    typer.echo(json.dumps(result, ensure_ascii=False, indent=1) if json_out else compare_text(result))


def _open(corpus: Path | None, index: Path | None, settings: dict, chroma_url: str | None) -> tuple:
    """The index to evaluate and a description of it for the report."""
    import rag
    from rag.eval.run import open_eval_index

    if corpus is not None:
        ix, report = open_eval_index(corpus, index, **settings)
        for failure in [*report.failed, *report.skipped]:
            _err(f"skipped {failure.path}: {failure.error}")
        ingest = {k: v for k, v in report.to_json().items() if k != "documents"}
    else:
        ix = rag.open_index(index, **settings, **({"chroma_url": chroma_url} if chroma_url else {}))
        ingest = None
        if ix.is_empty():
            _err(f"The index is empty: ingesting {ix.settings.corpus} first.")
            report = ix.ingest()
            for failure in [*report.failed, *report.skipped]:
                _err(f"skipped {failure.path}: {failure.error}")
            ingest = {k: v for k, v in report.to_json().items() if k != "documents"}
    documents = ix.documents()
    info = {"dir": str(ix.settings.index_dir), "corpus": str(corpus) if corpus is not None else None,
            "documents": len(documents), "chunks": sum(d.chunks for d in documents), "ingest": ingest}
    return ix, info, {d.id for d in documents}


def _run(questions_path: Path, corpus: Path | None, index: Path | None, model: str | None, mode: str | None,
         k: int | None, limit: int | None, out: Path | None, json_out: bool, thresholds: list[tuple[str, float]],
         judge_option: str | None, chroma_url: str | None) -> bool:
    """Run the evaluation, write its files, print the summary; True when a threshold was missed."""
    from rag.eval.judge import Judge, judge_model_from
    from rag.eval.questions import load_questions
    from rag.eval.report import build_report, check_thresholds, summary_text, write_run
    from rag.eval.run import RETRIEVAL_K, evaluate

    qset = load_questions(questions_path)
    for line, problem in qset.problems:
        _err(f"{questions_path}:{line}: {problem} (line skipped)")
    questions = qset.questions[:limit] if limit else qset.questions
    settings = {key: value for key, value in {"mode": mode, "top_k": k, "model": model}.items() if value is not None}
    started = time.perf_counter()
    ix, index_info, doc_ids = _open(corpus, index, settings, chroma_url)
    gold = {s for q in questions for s in q.sources}
    missing = sorted(gold - doc_ids)
    index_info["gold_sources_missing"] = len(missing)
    if missing:
        _err(f"warning: {len(missing)} of {len(gold)} gold source ids are not in the index (e.g. {missing[0]!r})"
             + ("" if corpus else ": pass the corpus they come from with --corpus"))

    judge_name = judge_model_from(judge_option)
    judge = Judge(judge_name, ix.settings) if judge_name else None
    records = evaluate(ix, questions, k=ix.settings.top_k, mode=ix.settings.mode, judge=judge)
    judge_info = ({"model": judge_name, "skipped": None, "errors": judge.errors} if judge else
                  {"model": None, "skipped": "no judge model: set --judge-model or RAG_JUDGE_MODEL", "errors": 0})
    report = build_report(qset, records, settings=ix.settings, mode=ix.settings.mode, k=ix.settings.top_k,
                          retrieval_k=max(RETRIEVAL_K, ix.settings.top_k), index=index_info, judge=judge_info,
                          seconds=time.perf_counter() - started, limit=limit)
    report["thresholds"] = check_thresholds(report["metrics"], thresholds)
    if out is None:
        out = Path("eval") / "results" / f"{qset.name}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
    write_run(out, report, records)
    if json_out:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        typer.echo(summary_text(report, out))
    missed = [t for t in report["thresholds"] if not t["passed"]]
    for t in report["thresholds"]:
        value = "not measured" if t["value"] is None else f"{t['value']:.4g}"
        _err(f"{'FAIL' if not t['passed'] else 'ok'}: {t['metric']} = {value} (needs {t['rule']} {t['threshold']:g})")
    return bool(missed)
