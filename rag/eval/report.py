"""The outputs of `rag eval`: report.json, per_question.jsonl, report.md with its plots, the summary table,
and the `--fail-under` thresholds. The keys of report.json are documented in eval/README.md."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from pathlib import Path
from typing import Any

from rag import ConfigError
from rag.eval.questions import QuestionSet
from rag.eval.run import LATENCY, METRICS, recall_curve, summarize_records

SCHEMA_VERSION = 1


def settings_record(settings: Any) -> dict:
    """The settings used (model_dump minus api_key), JSON-safe."""
    return settings.model_dump(mode="json", exclude={"api_key"})


def machine() -> dict:
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()}


def build_report(qset: QuestionSet, records: list[dict], *, settings: Any, mode: str, k: int, retrieval_k: int,
                 index: dict, judge: dict, seconds: float, limit: int | None = None) -> dict:
    """The content of report.json (see eval/README.md for every key)."""
    answerable = sum(r["answerable"] for r in records)
    return {
        "schema_version": SCHEMA_VERSION,
        "created": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "question_set": {
            "path": str(qset.path), "name": qset.name, "questions": len(records), "answerable": answerable,
            "unanswerable": len(records) - answerable, "limit": limit,
            "skipped_lines": [{"line": line, "error": error} for line, error in qset.problems],
        },
        "run": {
            "mode": mode, "k": k, "retrieval_k": retrieval_k, "model": settings.model,
            "answering": "llm" if settings.model else "offline", "judge_model": judge.get("model"),
            "seconds": round(seconds, 1), "errors": sum(r["error"] is not None for r in records),
            "machine": machine(),
        },
        "index": index,
        "metrics": summarize_records(records),
        "recall_curve": recall_curve(records, retrieval_k),
        "judge": judge,
        "settings": settings_record(settings),
        "settings_hash": settings.answer_hash(),
        "thresholds": [],
    }


# --- thresholds ----------------------------------------------------------------------------------


def parse_threshold(text: str) -> tuple[str, float]:
    """"recall@5=0.9" -> ("recall@5", 0.9); ConfigError naming the known metrics otherwise."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or name not in METRICS:
        raise ConfigError(f"--fail-under wants METRIC=VALUE with METRIC one of {', '.join(METRICS)}; got {text!r}")
    try:
        return name, float(value)
    except ValueError:
        raise ConfigError(f"--fail-under {text!r}: {value!r} is not a number") from None


def check_thresholds(metrics: dict, thresholds: list[tuple[str, float]]) -> list[dict]:
    """A metric where higher is better must be >= its threshold; one where lower is better (false_refusal_rate,
    latency_*) must be <= it. A metric that was not measured (no question it applies to) misses."""
    results = []
    for name, threshold in thresholds:
        value = metrics[name]["value"]
        higher = METRICS[name][1]
        passed = value is not None and (value >= threshold if higher else value <= threshold)
        results.append({"metric": name, "threshold": threshold, "value": value,
                        "rule": ">=" if higher else "<=", "passed": passed})
    return results


# --- text ----------------------------------------------------------------------------------------


def fmt(name: str, value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if name in LATENCY else f"{value:.3f}"


def metric_rows(metrics: dict) -> list[list[str]]:
    rows = []
    for name, m in metrics.items():
        ci = f"[{fmt(name, m['ci_low'])}, {fmt(name, m['ci_high'])}]" if m["ci_low"] is not None else ""
        rows.append([name, fmt(name, m["value"]), ci, str(m["n"]), METRICS.get(name, ("", True))[0]])
    return rows


def table(rows: list[list[str]], header: list[str]) -> str:
    """A Markdown table that also reads well on a terminal."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


def summary_text(report: dict, out: Path | None = None) -> str:
    qs, run = report["question_set"], report["run"]
    lines = [
        f"{qs['name']}: {qs['questions']} questions ({qs['answerable']} answerable, {qs['unanswerable']} "
        f"unanswerable), mode {run['mode']}, k={run['k']}, answers {run['model'] or 'offline (extractive)'}, "
        f"{run['seconds']:.0f}s" + (f", {run['errors']} failed with an error" if run["errors"] else ""),
        "",
        table(metric_rows(report["metrics"]), ["metric", "value", "95% CI", "n", "over"]),
    ]
    if report["judge"].get("skipped"):
        lines.append(f"\nfaithfulness, correctness: skipped ({report['judge']['skipped']})")
    if qs["skipped_lines"]:
        lines.append(f"\n{len(qs['skipped_lines'])} malformed lines skipped in {qs['path']}")
    if out is not None:
        lines.append(f"\nwrote {out}/report.json, per_question.jsonl, report.md")
    return "\n".join(lines)


def markdown(report: dict, records: list[dict], plots: dict[str, str]) -> str:
    qs, run, index = report["question_set"], report["run"], report["index"]
    parts = [
        f"# Evaluation: {qs['name']}",
        "",
        f"- question set: `{qs['path']}`: {qs['questions']} questions, {qs['answerable']} answerable, "
        f"{qs['unanswerable']} unanswerable" + (f" (first {qs['limit']})" if qs["limit"] else ""),
        f"- corpus: `{index.get('corpus') or 'the app index'}`, index `{index.get('dir')}` "
        f"({index.get('documents')} document{'' if index.get('documents') == 1 else 's'}, "
        f"{index.get('chunks')} chunks)",
        f"- retrieval mode {run['mode']}, k={run['k']} passages per answer ({run['retrieval_k']} searched for the "
        f"retrieval metrics); answers: {run['model'] or 'offline extraction, no LLM'}",
        f"- settings hash `{report['settings_hash']}`; {report['created']}; {run['machine']['platform']}, "
        f"{run['machine']['cpus']} CPUs; {run['seconds']:.0f} s",
        "",
        table(metric_rows(report["metrics"]), ["metric", "value", "95% CI", "n", "over"]),
        "",
        "Means over the questions each metric applies to (`n`), with 95% percentile-bootstrap intervals; "
        "latency is the percentile of the wall time of `index.ask`. Definitions: eval/README.md.",
    ]
    if report["judge"].get("skipped"):
        parts.append(f"\nLLM judge: skipped ({report['judge']['skipped']}).")
    else:
        parts.append(f"\nLLM judge: {report['judge']['model']} ({report['judge'].get('errors', 0)} failed calls).")
    if report["thresholds"]:
        rows = [[t["metric"], f"{t['rule']} {t['threshold']}", fmt(t["metric"], t["value"]),
                 "pass" if t["passed"] else "FAIL"] for t in report["thresholds"]]
        parts += ["", "## Thresholds", "", table(rows, ["metric", "rule", "value", "result"])]
    if qs["skipped_lines"]:
        parts += ["", "## Malformed lines (skipped)", ""]
        parts += [f"- line {p['line']}: {p['error']}" for p in qs["skipped_lines"]]
    captions = {"metrics": "Metrics with 95% confidence intervals", "latency": "Answer latency",
                "recall_curve": "Document recall@k"}
    for key, name in plots.items():
        parts += ["", f"## {captions[key]}", "", f"![{captions[key]}]({name})"]
    wrong = [r for r in records if r["correct"] is False or r["error"]]
    if wrong:
        parts += ["", f"## Wrong answers ({len(wrong)}{', first 30' if len(wrong) > 30 else ''})", ""]
        rows = []
        for r in wrong[:30]:
            what = r["error"] or ("answered (should refuse)" if not r["answerable"] else
                                  "refused" if r["refused"] else "no gold answer in it")
            gold = " / ".join(r["gold_answers"][:2]) or "-"
            rows.append([r["id"], _cell(r["question"], 70), _cell(gold, 30), what])
        parts.append(table(rows, ["id", "question", "gold", "what went wrong"]))
    parts += ["", "## Settings", "", "```json", json.dumps(report["settings"], indent=1, sort_keys=True), "```", ""]
    return "\n".join(parts)


def _cell(text: str, limit: int) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- files ---------------------------------------------------------------------------------------


def write_run(out: Path, report: dict, records: list[dict], plots: bool = True) -> dict[str, str]:
    """Write report.json, per_question.jsonl, the PNGs and report.md into `out`; return the plots written."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "per_question.jsonl").open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    written: dict[str, str] = {}
    if plots:
        from rag.eval.plots import write_plots

        written = write_plots(out, report, records)
    report["plots"] = written
    (out / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "report.md").write_text(markdown(report, records, written), encoding="utf-8")
    return written


def load_run(path: str | Path) -> tuple[dict, list[dict], Path]:
    """A run folder (or its report.json) -> (report, per-question records, folder)."""
    path = Path(path)
    folder = path.parent if path.is_file() else path
    report_file, lines_file = folder / "report.json", folder / "per_question.jsonl"
    if not report_file.is_file() or not lines_file.is_file():
        raise ConfigError(f"{path} is not an eval run: it needs report.json and per_question.jsonl")
    try:
        report = json.loads(report_file.read_text(encoding="utf-8"))
        records = [json.loads(x) for x in lines_file.read_text(encoding="utf-8").splitlines() if x.strip()]
    except json.JSONDecodeError as exc:
        raise ConfigError(f"cannot read the eval run in {folder}: {exc}") from exc
    return report, records, folder
