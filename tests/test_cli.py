"""The `rag` command as a user runs it: JSON fields exactly as documented, one-line errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

QUESTION = "Who is Belarus's foreign minister?"


def rag(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli") / "index"


def test_ingest_json_then_search_json_finds_makei_first(index_dir: Path) -> None:
    done = rag("ingest", "--index", str(index_dir), "--json")  # PATH defaults to seeds/
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert {"added", "updated", "removed", "unchanged", "failed", "chunks", "seconds"} <= set(report)
    assert (report["added"], report["failed"]) == (1, []) and report["chunks"] > 0

    again = json.loads(rag("ingest", "seeds", "--index", str(index_dir), "--json").stdout)
    assert (again["added"], again["unchanged"], again["embedded"]) == (0, 1, 0)

    done = rag("search", QUESTION, "--index", str(index_dir), "-k", "3", "--json")
    assert done.returncode == 0, done.stderr
    passages = json.loads(done.stdout)
    assert len(passages) == 3
    assert {"id", "document", "title", "url", "text", "start", "end", "score"} <= set(passages[0])
    assert "Vladimir Makei" in passages[0]["text"]
    lexical = json.loads(rag("search", QUESTION, "--index", str(index_dir), "--mode", "lexical", "--json").stdout)
    assert "Vladimir Makei" in lexical[0]["text"]
    dense = json.loads(rag("search", QUESTION, "--index", str(index_dir), "--mode", "dense", "--json").stdout)
    assert dense[0]["score"] >= dense[-1]["score"] and len(dense) == min(5, report["chunks"])  # default k=5

    text = rag("search", QUESTION, "--index", str(index_dir), "-k", "1")
    assert text.returncode == 0 and "[1]" in text.stdout and "Vladimir Makei" in text.stdout


def test_a_corrupt_file_is_named_on_one_line_and_the_rest_ingested(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.md").write_text("# Good\n\nThis file is fine and talks about lighthouses.")
    (corpus / "bad.pdf").write_bytes(b"%PDF-1.7 truncated")
    done = rag("ingest", str(corpus), "--index", str(tmp_path / "idx"))
    assert done.returncode == 0
    assert "1 added" in done.stdout and "1 failed" in done.stdout
    lines = [line for line in done.stderr.splitlines() if "bad.pdf" in line]
    assert len(lines) == 1 and lines[0].startswith("skipped bad.pdf: ") and "PDF" in lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("search", "   "), "empty"),
        (("search", "x", "--mode", "fuzzy"), "mode"),
        (("ingest", "/no/such/folder"), "not found"),
        (("ask", ""), "empty"),
        (("search", "x", "-k", "many"), "usage error"),
    ],
    ids=["empty-query", "bad-mode", "missing-corpus", "empty-question", "bad-k"],
)
def test_errors_are_one_line_and_a_nonzero_exit(index_dir: Path, args: tuple[str, ...], message: str) -> None:
    done = rag(*args, "--index", str(index_dir))
    assert done.returncode in (1, 2)
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0].lower(), done.stderr
