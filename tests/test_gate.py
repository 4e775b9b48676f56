"""The CI gate (`.ci/run`): the gate question set over its own multi-document corpus, with thresholds that sit below
the checked-in results by a margin, and that a worse setting fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

GATE = ROOT / "eval" / "gate"
LATEST = ROOT / "eval" / "results" / "gate-latest" / "report.json"
MARGIN = 0.03


def thresholds() -> dict[str, float]:
    lines = [line.strip() for line in (GATE / "fail-under.txt").read_text().splitlines() if line.strip()]
    return {name: float(value) for name, value in (line.split("=") for line in lines)}


def test_the_gate_is_a_real_corpus_and_ci_uses_these_thresholds() -> None:
    questions = [json.loads(line) for line in (GATE / "questions.jsonl").read_text().splitlines()]
    documents = {p.name for p in (GATE / "corpus").iterdir()}
    sources = {s for q in questions for s in q["sources"]}
    assert len(documents) >= 10 and sources <= documents and len(sources) >= 10
    assert sum(not q["answerable"] for q in questions) >= 10
    assert "eval/gate/fail-under.txt" in (ROOT / ".ci" / "run").read_text()


def test_thresholds_sit_below_the_checked_in_results() -> None:
    metrics = json.loads(LATEST.read_text())["metrics"]
    for name, threshold in thresholds().items():
        value = metrics[name]["value"]
        if name == "false_refusal_rate":
            assert value <= threshold - MARGIN, (name, value, threshold)
        else:
            assert value >= threshold + MARGIN, (name, value, threshold)


def test_a_worse_setting_fails_the_gate(tmp_path: Path) -> None:
    """A refusal floor set too high (a plausible regression) refuses answerable questions: the gate exits 1."""
    args = [f"{name}={value}" for name, value in thresholds().items()]
    env = {**os.environ, "RAG_MIN_RELEVANCE": "0.5"}
    done = subprocess.run(
        [sys.executable, "-m", "rag.cli", "eval", str(GATE / "questions.jsonl"), "--corpus", str(GATE / "corpus"),
         "--index", str(tmp_path / "index"), "--out", str(tmp_path / "run"), "--fail-under", *args],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=900,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert "FAIL: false_refusal_rate" in done.stderr
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["metrics"]["false_refusal_rate"]["value"] > thresholds()["false_refusal_rate"]
