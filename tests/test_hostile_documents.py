"""Hostile and careless corpus entries (issue 11's document side): each is named on one line with its reason, in
the load result, the ingest report's JSON and the CLI, it never hangs or floods, and the good files beside it are
all there. The entries are built at run time by tests/hostile_files.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import rag
from hostile_files import GOOD, build_hostile_corpus, docx_zip_bomb, encrypted_pdf, flate_bomb_pdf, slow_pdf
from rag.documents import load_corpus, load_file, walk_corpus
from rag.errors import DocumentError
from rag.isolation import ParseLimits

ROOT = Path(__file__).resolve().parent.parent


def _named(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    entries = [*result.failures, *result.skipped]
    assert len({e.path for e in entries}) == len(entries), "an entry named twice"
    return {e.path: e.error for e in entries}


def test_every_bad_entry_is_named_once_and_every_good_file_is_loaded(tmp_path: Path) -> None:
    expected = build_hostile_corpus(tmp_path / "corpus")
    big = next(k for k in expected if k.endswith(".jsonl") and k.startswith("/"))
    expected.pop(big)
    expected.pop("bad/slow.pdf")  # its limit is the timeout, tested apart (with the default it takes 20 s)
    (tmp_path / "corpus" / "bad" / "slow.pdf").unlink()
    result = load_corpus(tmp_path / "corpus", limits=ParseLimits(timeout=30, memory_mb=400))

    loaded = {d.id: d for d in result.documents}
    for doc_id, sentence in GOOD.items():
        assert sentence in loaded[doc_id].text
    named = _named(result)
    for entry, words in expected.items():
        assert words in named.get(entry, ""), f"{entry}: {named.get(entry)!r}"
    assert set(named) == set(expected)  # nothing else skipped: the pathological-but-valid files load
    assert {"bad/heading.md", "bad/lt.html"} <= set(loaded) | set(named)
    assert not any("etc" in d.id or "passwd" in d.id for d in result.documents)
    assert all("root:" not in d.text for d in result.documents)  # /etc/passwd never read


def test_a_parse_that_makes_no_progress_is_stopped_and_the_next_file_parses(tmp_path: Path) -> None:
    (tmp_path / "a-slow.pdf").write_bytes(slow_pdf())
    (tmp_path / "b-good.md").write_text("# Good\n\nThe good file survives a stopped parse.\n")
    result = load_corpus(tmp_path, limits=ParseLimits(timeout=2, workers=1))
    assert _named(result) == {"a-slow.pdf": "the parse took too long (no progress in 2 s: RAG_PARSE_TIMEOUT)"}
    assert [d.id for d in result.documents] == ["b-good.md"]


def test_a_parse_over_the_memory_limit_is_stopped_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "bomb.pdf").write_bytes(flate_bomb_pdf(1500))
    with pytest.raises(DocumentError, match=r"^the parse needed more than the 300 MB memory limit"):
        load_file(tmp_path / "bomb.pdf", "bomb.pdf", limits=ParseLimits(timeout=60, memory_mb=300))
    (tmp_path / "ok.txt").write_text("After the bomb, a plain file.")
    assert load_file(tmp_path / "ok.txt", "ok.txt", limits=ParseLimits(memory_mb=300)).text.startswith("After")


def test_docx_zip_bomb_is_refused_before_decompressing(tmp_path: Path) -> None:
    (tmp_path / "bomb.docx").write_bytes(docx_zip_bomb(300))
    with pytest.raises(DocumentError, match=r"^DOCX archive expands to 315 MB \(more than 200 MB\): a zip bomb"):
        load_file(tmp_path / "bomb.docx", "bomb.docx")


def test_aes_encrypted_pdfs(tmp_path: Path) -> None:
    (tmp_path / "open.pdf").write_bytes(encrypted_pdf(""))  # AES-256, empty user password: readable
    assert load_file(tmp_path / "open.pdf", "open.pdf").text == "Secret words"
    (tmp_path / "locked.pdf").write_bytes(encrypted_pdf("hunter2"))
    with pytest.raises(DocumentError, match=r"^encrypted PDF$"):
        load_file(tmp_path / "locked.pdf", "locked.pdf")


def test_corpus_jsonl_with_a_huge_line_and_a_deep_one(tmp_path: Path) -> None:
    build_hostile_corpus(tmp_path / "c")
    result = load_corpus(tmp_path / "c-huge-line.jsonl", max_bytes=1_000_000)
    assert [d.id for d in result.documents] == ["ok-1", "ok-2"]
    assert _named(result) == {
        "c-huge-line.jsonl:2": "line 2 is longer than the 1 MB limit (RAG_MAX_FILE_MB)",
        "c-huge-line.jsonl:3": "invalid JSON on line 3",
    }


def test_special_files_given_directly_do_not_block(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "pipe.md")
    with pytest.raises(DocumentError, match=r"^not a regular file \(a FIFO\)$"):
        load_file(tmp_path / "pipe.md", "pipe.md")
    result = load_corpus(tmp_path / "pipe.md")
    assert result.failures[0].error == "not a regular file (a FIFO)" and result.documents == []


def test_symlinks_inside_the_corpus_are_followed_and_walk_names_the_rest(tmp_path: Path) -> None:
    (tmp_path / "real.md").write_text("# Real\n\nA real file.")
    (tmp_path / "alias.md").symlink_to(tmp_path / "real.md")
    (tmp_path / "dangling.md").symlink_to(tmp_path / "missing.md")
    walked = {p.name: reason for p, reason in walk_corpus(tmp_path)}
    assert walked == {"alias.md": None, "dangling.md": "broken symlink", "real.md": None}


def test_ingest_report_and_index_drop_a_file_that_became_a_link_outside(tmp_path: Path, embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "keep.md").write_text("# Keep\n\n" + GOOD["good/notes.md"])
    (corpus / "secret.md").write_text("# Secret\n\nA file that will become a symlink.")
    index = rag.open_index(tmp_path / "index", embedder=embedder)
    assert sorted(index.ingest(corpus, progress=False).added) == ["keep.md", "secret.md"]
    (corpus / "secret.md").unlink()
    (corpus / "secret.md").symlink_to("/etc/passwd")
    (corpus / "pipe.txt").unlink(missing_ok=True)
    import os

    os.mkfifo(corpus / "pipe.txt")
    report = index.ingest(corpus, progress=False).to_json()
    assert report["skipped"] == [
        {"path": "pipe.txt", "error": "not a regular file (a FIFO)"},
        {"path": "secret.md", "error": "symlink to a place outside the corpus folder (not followed)"},
    ]
    assert report["failed"] == [] and report["documents"]["removed"] == ["secret.md"]
    assert [d.id for d in index.documents()] == ["keep.md"]
    assert index.search("otters hold hands", k=1)[0].document == "keep.md"


def test_cli_names_each_skipped_entry_on_one_line(tmp_path: Path) -> None:
    import os

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.md").write_text("# Good\n\n" + GOOD["good/guide.txt"])
    os.mkfifo(corpus / "pipe.txt")
    (corpus / "out.md").symlink_to("/etc/hostname")
    (corpus / "bomb.docx").write_bytes(docx_zip_bomb(300))
    (corpus / "sub").mkdir()
    (corpus / "sub" / "corpus.jsonl").write_text('{"_id": "1", "text": "t"}\n')
    run = subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(corpus), "--index", str(tmp_path / "ix"),
                          "--json"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["added"] == 1
    assert [f["path"] for f in report["failed"]] == ["bomb.docx"]
    assert [f["path"] for f in report["skipped"]] == ["out.md", "pipe.txt", "sub/corpus.jsonl"]
    lines = [line for line in run.stderr.splitlines() if line.startswith("skipped ")]
    assert sorted(lines) == sorted([
        "skipped bomb.docx: DOCX archive expands to 315 MB (more than 200 MB): a zip bomb? not parsed",
        "skipped out.md: symlink to a place outside the corpus folder (not followed)",
        "skipped pipe.txt: not a regular file (a FIFO)",
        "skipped sub/corpus.jsonl: a .jsonl file inside a folder is not read (ingest it on its own: rag ingest "
        "FILE.jsonl)",
    ])
