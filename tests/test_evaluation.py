"""`rag eval`: per-question metrics worked by hand, question-set loading, thresholds, the judge, and the
command itself (run, files, exit codes, --compare) on the seed corpus."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

import rag
from rag.errors import ConfigError
from rag.eval.compare import compare_runs, compare_text
from rag.eval.judge import Judge, parse_scores
from rag.eval.report import check_thresholds, parse_threshold
from rag.eval.questions import EvalQuestion, load_questions
from rag.eval.run import (
    METRICS,
    PER_QUESTION,
    eval_index_dir,
    evaluate,
    is_correct,
    score_question,
    summarize_records,
)

from conftest import ROOT, SEEDS
from fakellm import FakeLLM

DOC = "000_7582f00bdfc6e56e.txt"


def q(answerable: bool = True, answers: list[str] | None = None, sources: list[str] | None = None) -> EvalQuestion:
    answers = (["Vladimir Makei", "Makei"] if answerable else []) if answers is None else answers
    sources = (["doc-a"] if answerable else []) if sources is None else sources
    return EvalQuestion("q1", "Who is Belarus's foreign minister?", answers, answerable, sources)


# --- per-question metrics, by hand ---------------------------------------------------------------


def test_refused_unanswerable_scores_only_refusal_accuracy() -> None:
    values = score_question(q(answerable=False), "I could not find the answer.", True, [], ["doc-a", "doc-b"])
    assert values == {**dict.fromkeys(PER_QUESTION), "refusal_accuracy": 1.0}
    assert is_correct(q(answerable=False), values, refused=True) is True


def test_answered_unanswerable_misses_refusal_accuracy() -> None:
    values = score_question(q(answerable=False), "Makei said so [1].", False, ["doc-a"], ["doc-a"])
    assert values == {**dict.fromkeys(PER_QUESTION), "refusal_accuracy": 0.0}
    assert is_correct(q(answerable=False), values, refused=False) is False


def test_answered_answerable_with_a_gold_citation() -> None:
    # gold doc-a is the second retrieved passage; its document comes second among distinct documents too
    answer = "Belarus's foreign minister is Vladimir Makei [1]."
    values = score_question(q(), answer, False, ["doc-a"], ["doc-b", "doc-a", "doc-a", "doc-c"])
    assert values["recall@1"] == 0.0 and values["recall@5"] == 1.0 and values["recall@10"] == 1.0
    assert values["mrr@10"] == 0.5
    assert values["ndcg@10"] == pytest.approx(1 / math.log2(3))  # one gold doc at rank 2; ideal DCG is 1
    assert values["answer_contains"] == 1.0
    assert values["exact_match"] == 0.0
    # "belaruss foreign minister is vladimir makei" vs "vladimir makei": P = 2/6, R = 1, F1 = 0.5
    assert values["f1"] == pytest.approx(0.5)
    assert values["citation_precision"] == 1.0 and values["citation_recall"] == 1.0
    assert values["false_refusal_rate"] == 0.0 and values["refusal_accuracy"] is None
    assert values["faithfulness"] is None and values["correctness"] is None
    assert is_correct(q(), values, refused=False) is True


def test_exact_short_answer_is_an_exact_match() -> None:
    values = score_question(q(), "Vladimir Makei [1].", False, ["doc-a"], ["doc-a"])
    assert values["exact_match"] == 1.0 and values["f1"] == 1.0 and values["answer_contains"] == 1.0


def test_a_wrong_citation() -> None:
    values = score_question(q(), "Makei leads it [1][2].", False, ["doc-b", "doc-a"], ["doc-a"])
    assert values["citation_precision"] == 0.5 and values["citation_recall"] == 1.0
    values = score_question(q(), "Lukashenko leads it [1].", False, ["doc-b"], ["doc-a"])
    assert values["citation_precision"] == 0.0 and values["citation_recall"] == 0.0
    assert values["answer_contains"] == 0.0 and values["f1"] == 0.0
    assert is_correct(q(), values, refused=False) is False


def test_refused_answerable_scores_zero_not_none() -> None:
    # the refusal text names the corpus: it must not earn answer credit
    values = score_question(q(), "I could not find it. The corpus holds 1 document, about: Makei.", True, [], ["doc-a"])
    assert values["answer_contains"] == 0.0 and values["exact_match"] == 0.0 and values["f1"] == 0.0
    assert values["citation_recall"] == 0.0 and values["citation_precision"] is None  # no citation to judge
    assert values["false_refusal_rate"] == 1.0 and values["recall@1"] == 1.0


def test_retrieval_only_question_has_no_answer_metrics() -> None:
    question = q(answers=[], sources=["doc-a"])
    values = score_question(question, "whatever [1]", False, ["doc-a"], ["doc-a"])
    assert values["answer_contains"] is None and values["recall@1"] == 1.0
    assert is_correct(question, values, refused=False) is None


def test_summary_counts_only_the_questions_a_metric_applies_to() -> None:
    def record(metrics: dict, latency: float | None) -> dict:
        return {"metrics": {**dict.fromkeys(PER_QUESTION), **metrics}, "latency_ms": latency}

    records = [
        record({"answer_contains": 1.0, "false_refusal_rate": 0.0}, 100.0),
        record({"answer_contains": 0.0, "false_refusal_rate": 1.0}, 300.0),
        record({"refusal_accuracy": 1.0}, 200.0),
        record({}, None),  # failed with an error
    ]
    summary = summarize_records(records)
    assert list(summary) == list(METRICS)
    assert summary["answer_contains"]["value"] == 0.5 and summary["answer_contains"]["n"] == 2
    assert summary["refusal_accuracy"] == {"value": 1.0, "n": 1, "ci_low": None, "ci_high": None}
    assert summary["latency_p50_ms"]["value"] == 200.0 and summary["latency_p50_ms"]["n"] == 3
    assert summary["latency_p95_ms"]["value"] == 290.0  # linear interpolation: 200 + 0.9 * 100
    assert summary["recall@1"] == {"value": None, "n": 0, "ci_low": None, "ci_high": None}


# --- question sets -------------------------------------------------------------------------------


def test_jsonl_set_reports_malformed_lines_by_number_and_keeps_extra_fields(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join([
        '{"id": "a", "question": "Who?", "answers": ["Makei"], "answerable": true, "sources": ["d"], "kind": "x"}',
        '{"id": "b", "question": "Why?", "answers": [], "answerable": false, "sources": []}',
        "",
        '{"id": "c", "question": "broken"',
        '{"id": "d", "question": ""}',
        '["not", "an", "object"]',
        '{"id": "a", "question": "Again?"}',
        '{"id": "e", "question": "Bad answers", "answers": [1, [2]]}',
        '{"id": "f", "question": "Bad flag", "answerable": "maybe"}',
        '{"question": "No id, answers only", "answers": ["x"]}',
    ]) + "\n")
    qset = load_questions(path)
    assert [x.id for x in qset.questions] == ["a", "b", "line-10"]
    a, b, last = qset.questions
    assert a.extra == {"kind": "x"} and a.answerable and a.sources == ["d"] and a.line == 1
    assert not b.answerable and b.answers == [] and b.line == 2
    assert last.answerable and last.answers == ["x"] and last.sources == []  # answerable defaults to bool(answers)
    lines = [line for line, _ in qset.problems]
    assert lines == [4, 5, 6, 7, 8, 9]
    problems = dict(qset.problems)
    assert "invalid JSON" in problems[4] and "question" in problems[5] and "duplicate id" in problems[7]
    assert qset.name == "set"


def test_csv_set(tmp_path: Path) -> None:
    path = tmp_path / "questions.csv"
    path.write_text(
        "id,question,answers,answerable,sources,difficulty\n"
        'c1,Who leads Belarus?,Alexander Lukashenko|Lukashenko,true,doc.txt,easy\n'
        'c2,"A question\nover two lines?","[""x, y"", ""z""]",yes,"[""doc.txt""]",hard\n'
        "c3,What is the capital of Australia?,,false,,\n"
        "c4,Too many cells,a,true,doc.txt,easy,surplus\n"
        "c5,Bad flag,a,perhaps,doc.txt,\n"
    )
    qset = load_questions(path)
    assert [x.id for x in qset.questions] == ["c1", "c2", "c3"]
    c1, c2, c3 = qset.questions
    assert c1.answers == ["Alexander Lukashenko", "Lukashenko"] and c1.sources == ["doc.txt"]
    assert c1.extra == {"difficulty": "easy"}
    assert c2.question == "A question\nover two lines?" and c2.answers == ["x, y", "z"] and c2.answerable
    assert (c2.line, c3.line) == (3, 5)
    assert not c3.answerable and c3.answers == [] and c3.sources == []
    assert [line for line, _ in qset.problems] == [6, 7]
    assert qset.name == tmp_path.name  # questions.csv is named after its folder


def test_missing_or_empty_set_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_questions(tmp_path / "nope.jsonl")
    (tmp_path / "bad.jsonl").write_text("{oops\n")
    with pytest.raises(ConfigError, match="line 1"):
        load_questions(tmp_path / "bad.jsonl")


def test_the_seed_set_loads_whole() -> None:
    qset = load_questions(ROOT / "eval" / "seeds.jsonl")
    assert qset.problems == [] and len(qset.questions) >= 30
    assert sum(not x.answerable for x in qset.questions) >= 8
    assert all(x.sources == [DOC] for x in qset.questions if x.answerable)


# --- thresholds, index folder, judge -------------------------------------------------------------


def test_thresholds() -> None:
    assert parse_threshold("recall@5=0.9") == ("recall@5", 0.9)
    for bad in ("recall@7=0.9", "recall@5", "recall@5=high"):
        with pytest.raises(ConfigError):
            parse_threshold(bad)
    metrics = {"recall@5": {"value": 0.9}, "false_refusal_rate": {"value": 0.05}, "refusal_accuracy": {"value": None}}
    results = check_thresholds(metrics, [("recall@5", 0.9), ("false_refusal_rate", 0.04), ("refusal_accuracy", 0.1)])
    assert [(r["rule"], r["passed"]) for r in results] == [(">=", True), ("<=", False), (">=", False)]


def test_eval_index_dir_depends_on_the_resolved_corpus_path(tmp_path: Path) -> None:
    a = eval_index_dir(SEEDS, tmp_path)
    assert a == eval_index_dir(SEEDS / ".." / "seeds", tmp_path) and a.parent == tmp_path / "eval-indexes"
    assert a != eval_index_dir(ROOT / "eval", tmp_path)


def test_parse_judge_scores() -> None:
    assert parse_scores('Sure: {"faithfulness": 1, "correctness": 0.5}') == {"faithfulness": 1.0, "correctness": 0.5}
    assert parse_scores('{"faithfulness": 2, "correctness": null}') == {"faithfulness": 1.0, "correctness": None}
    for bad in ("no json", '{"correctness": 1}', '{"faithfulness": "yes"}'):
        with pytest.raises(ValueError):
            parse_scores(bad)


def test_evaluate_with_a_judge_on_the_seed_index(seed_index: rag.Index) -> None:
    questions = [
        EvalQuestion("s1", "Who is Belarus's foreign minister?", ["Vladimir Makei"], True, [DOC]),
        EvalQuestion("s2", "What is the capital of Australia?", [], False, []),
        EvalQuestion("s3", "Who is the president of Belarus?", ["Lukashenko"], True, [DOC]),
    ]
    with FakeLLM() as fake:
        settings = seed_index.settings.model_copy(update={"api_base": fake.base_url, "llm_timeout": 5,
                                                          "llm_retries": 0})
        judge = Judge("openai/test-model", settings)
        fake.reply('{"faithfulness": 1, "correctness": 1}')  # s1; s2 is refused offline: no call
        fake.fail(500, "judge down")  # s3
        records = evaluate(seed_index, questions, k=5, judge=judge, progress=False)
        assert fake.pending == 0 and len(fake.requests) == 2
        assert "Who is Belarus's foreign minister?" in fake.requests[0]["messages"][1]["content"]
    s1, s2, s3 = records
    assert s1["metrics"]["faithfulness"] == 1.0 and s1["metrics"]["correctness"] == 1.0 and s1["correct"]
    assert s1["retrieved"][0] == DOC and len(s1["retrieved"]) <= 10 and s1["latency_ms"] > 0
    assert s1["citations"] and s1["passages"] and "Makei" in s1["answer"]
    assert s2["refused"] and s2["metrics"]["refusal_accuracy"] == 1.0 and s2["judge"]["faithfulness"] is None
    assert s3["metrics"]["faithfulness"] is None and "judge down" in s3["judge"]["error"]
    assert judge.errors == 1


# --- the command ---------------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rag.cli", "eval", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=240)


@pytest.fixture(scope="module")
def small_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lines = [json.dumps(x) for x in load_questions_raw()[:8]]
    lines.insert(3, "{not json")
    path = tmp_path_factory.mktemp("set") / "small.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def load_questions_raw() -> list[dict]:
    rows = [json.loads(x) for x in (ROOT / "eval" / "seeds.jsonl").read_text().splitlines() if x.strip()]
    return [r for r in rows if r["answerable"]][:5] + [r for r in rows if not r["answerable"]][:3]


def test_rag_eval_writes_its_files_and_gates_on_thresholds(small_set: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    first = run_cli(str(small_set), "--corpus", str(SEEDS), "--index", str(index), "--out", str(tmp_path / "a"),
                    "--json", "--fail-under", "recall@5=0.5", "citation_recall=0.5")
    assert first.returncode == 0, first.stderr
    assert f"{small_set}:4: invalid JSON" in first.stderr  # reported with its line number; the rest ran
    report = json.loads(first.stdout)
    assert report == json.loads((tmp_path / "a" / "report.json").read_text())
    for key in ("schema_version", "created", "question_set", "run", "index", "metrics", "recall_curve", "judge",
                "settings", "settings_hash", "thresholds", "plots"):
        assert key in report
    assert list(report["metrics"]) == list(METRICS)
    assert report["question_set"]["questions"] == 8 and report["question_set"]["skipped_lines"][0]["line"] == 4
    assert report["metrics"]["recall@5"]["n"] == 5 and report["metrics"]["refusal_accuracy"]["n"] == 3
    assert report["metrics"]["faithfulness"]["value"] is None and "RAG_JUDGE_MODEL" in report["judge"]["skipped"]
    assert "api_key" not in report["settings"] and report["settings"]["mode"] == "hybrid"
    assert all(t["passed"] for t in report["thresholds"])
    assert (index / "eval-indexes").is_dir() and report["index"]["documents"] == 1
    assert report["index"]["ingest"]["added"] == 1
    records = [json.loads(x) for x in (tmp_path / "a" / "per_question.jsonl").read_text().splitlines()]
    assert len(records) == 8 and records[0]["id"] == "seed-01"
    for key in ("question", "answer", "citations", "passages", "metrics", "retrieved", "latency_ms", "correct"):
        assert key in records[0]
    assert set(records[0]["metrics"]) == set(PER_QUESTION) and records[0]["extra"] == {"kind": "factoid"}
    markdown = (tmp_path / "a" / "report.md").read_text()
    assert "| recall@5" in markdown and "![" in markdown
    for png in ("metrics.png", "latency.png", "recall_at_k.png"):
        assert (tmp_path / "a" / png).read_bytes()[:4] == b"\x89PNG"

    # second run: same corpus, so the eval index is reused (nothing embedded); a missed threshold exits 1
    second = run_cli(str(small_set), "--corpus", str(SEEDS), "--index", str(index), "--out", str(tmp_path / "b"),
                     "--mode", "lexical", "-k", "3", "--fail-under", "recall@5=0.5",
                     "--fail-under", "latency_p95_ms=0.001")
    assert second.returncode == 1, second.stderr
    assert "FAIL: latency_p95_ms" in second.stderr and "ok: recall@5" in second.stderr
    assert "| answer_contains" in second.stdout  # the summary table
    report_b = json.loads((tmp_path / "b" / "report.json").read_text())
    assert report_b["index"]["ingest"]["unchanged"] == 1 and report_b["index"]["ingest"]["embedded"] == 0
    assert report_b["run"]["mode"] == "lexical" and report_b["run"]["k"] == 3
    assert [t["passed"] for t in report_b["thresholds"]] == [True, False]

    # --compare: both columns, the differences and the flips
    compared = run_cli("--compare", str(tmp_path / "a"), str(tmp_path / "b"))
    assert compared.returncode == 0, compared.stderr
    out = compared.stdout
    assert "| metric" in out and "| a " in out and "| b " in out and "95% CI (paired)" in out
    assert "right -> wrong" in out and "wrong -> right" in out and "mode: 'hybrid' -> 'lexical'" in out
    as_json = compare_runs(tmp_path / "a", tmp_path / "b")  # what --compare --json prints
    assert as_json["shared_questions"] == 8 and as_json["metrics"]["recall@5"]["n_paired"] == 5
    flips = {f["id"] for f in as_json["right_to_wrong"] + as_json["wrong_to_right"]}
    changed = {r["id"] for r, s in zip(records, map(json.loads, (tmp_path / "b" / "per_question.jsonl")
                                                    .read_text().splitlines())) if r["correct"] != s["correct"]}
    assert flips == changed

    # a run made before a setting existed says so, instead of showing the setting as null
    old = json.loads((tmp_path / "a" / "report.json").read_text())
    del old["settings"]["fusion"]
    (tmp_path / "a" / "report.json").write_text(json.dumps(old))
    assert "fusion: (not recorded) -> 'convex'" in compare_text(compare_runs(tmp_path / "a", tmp_path / "b"))


def test_usage_errors_exit_2(small_set: Path, tmp_path: Path) -> None:
    bad_metric = run_cli(str(small_set), "--fail-under", "accuracy=0.5", "--out", str(tmp_path / "x"))
    assert bad_metric.returncode == 2 and "METRIC" in bad_metric.stderr
    assert not (tmp_path / "x").exists()  # refused before running anything
    assert run_cli("--compare", str(tmp_path)).returncode == 2
    assert run_cli(str(small_set), "--mode", "fuzzy").returncode == 2


def test_llm_answers_and_llm_refusals_are_scored(seed_index: rag.Index) -> None:
    from rag.prompts import REFUSAL_PHRASE

    questions = [
        EvalQuestion("l1", "Who is Belarus's foreign minister?", ["Vladimir Makei"], True, [DOC]),
        EvalQuestion("l2", "Who is the president of Russia?", [], False, []),  # on topic: reaches the LLM
    ]
    with FakeLLM() as fake:
        settings = seed_index.settings.model_copy(update={
            "model": "openai/test-model", "api_base": fake.base_url, "llm_timeout": 5, "llm_retries": 0})
        index = rag.Index(settings, embedder=seed_index.embedder)
        fake.reply("Belarus's foreign minister is Vladimir Makei [1].")
        fake.reply(REFUSAL_PHRASE)
        l1, l2 = evaluate(index, questions, progress=False)
        assert fake.pending == 0
    assert l1["answer_mode"] == "llm" and l1["metrics"]["answer_contains"] == 1.0
    assert l1["metrics"]["citation_precision"] == 1.0 and l1["correct"] is True
    assert l2["refused"] and l2["metrics"]["refusal_accuracy"] == 1.0 and l2["correct"] is True
