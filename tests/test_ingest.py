from __future__ import annotations

import json
import shutil
from pathlib import Path

import rag

from conftest import ANIMALS, SEEDS, write_corpus


def test_seed_question_finds_the_makei_passage_first(seed_index: rag.Index) -> None:
    passages = seed_index.search("Who is Belarus's foreign minister?")
    assert "Vladimir Makei" in passages[0].text
    top = passages[0]
    assert top.document == "000_7582f00bdfc6e56e.txt"
    assert top.url == (
        "https://www.themoscowtimes.com/2022/02/16/belarus-says-not-a-single-russian-soldier-will-stay-after-"
        "joint-drills-a76408"
    )
    assert top.dense_score is not None and top.lexical_score is not None
    for p in passages:
        assert "Original url" not in p.text and "themoscowtimes" not in p.text


def test_every_mode_ranks_and_reports_its_scores(seed_index: rag.Index) -> None:
    for mode in ("hybrid", "dense", "lexical"):
        passages = seed_index.search("Who has ruled Belarus since 1994?", k=3, mode=mode)
        assert passages and "Lukashenko" in passages[0].text, mode
        assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    dense = seed_index.search("Who has ruled Belarus since 1994?", k=2, mode="dense")
    assert dense[0].score == dense[0].dense_score


def test_incremental_ingest_add_change_delete(tmp_path: Path, counting) -> None:
    corpus = write_corpus(tmp_path / "corpus", ANIMALS)
    index = rag.open_index(tmp_path / "idx", embedder=counting)
    first = index.ingest(corpus, progress=False)
    assert sorted(first.added) == ["camels.txt", "notes/owls.md", "otters.md"]
    sentences = sum(len(r.sentences) for r in index.sentences.rows(  # each chunk's sentences are embedded too
        index.store.lexical.ids_of(first.added), index.store.titles).values())
    assert first.embedded > 0 and counting.texts == first.embedded + sentences

    counting.calls = counting.texts = 0
    again = index.ingest(corpus, progress=False)
    assert counting.calls == 0 and again.embedded == 0
    assert sorted(again.unchanged) == sorted(first.added) and again.chunks == first.chunks

    (corpus / "camels.txt").write_text("Camels have three eyelids to keep out blowing sand.")
    (corpus / "notes" / "owls.md").unlink()
    (corpus / "bees.txt").write_text("Honey bees dance to tell each other where the flowers are.")
    third = index.ingest(corpus, progress=False)
    assert third.updated == ["camels.txt"] and third.removed == ["notes/owls.md"] and third.added == ["bees.txt"]
    assert third.unchanged == ["otters.md"]
    assert third.embedded == 2  # only the two new texts, one chunk (and one sentence) each
    assert counting.texts == 2 * 2

    assert index.search("How do camels protect their eyes from sand?", k=1)[0].document == "camels.txt"
    assert all("humps" not in p.text for p in index.search("camel humps fat water", k=10))
    assert all(p.document != "notes/owls.md" for p in index.search("owls turn their heads", k=10))
    assert all(p.document != "notes/owls.md" for p in index.search("owls turn their heads", k=10, mode="lexical"))
    assert sorted(d.id for d in index.documents()) == ["bees.txt", "camels.txt", "otters.md"]

    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert manifest["documents"] == 3 and manifest["chunks"] == third.chunks
    assert manifest["settings"]["chunk_tokens"] == "128"


def test_a_bad_file_is_named_and_the_rest_is_ingested(tmp_path: Path, embedder) -> None:
    corpus = write_corpus(tmp_path / "corpus", ANIMALS)
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage without end")
    (corpus / "empty.txt").write_text("")
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 40)
    index = rag.open_index(tmp_path / "idx", embedder=embedder)
    report = index.ingest(corpus, progress=False)
    assert sorted(report.added) == ["camels.txt", "notes/owls.md", "otters.md"]
    failed = {f.path: f.error for f in report.failed}
    assert sorted(failed) == ["binary.txt", "broken.pdf", "empty.txt"]
    assert "PDF" in failed["broken.pdf"] and "empty" in failed["empty.txt"] and "binary" in failed["binary.txt"]


def test_a_file_that_breaks_later_keeps_its_indexed_version(tmp_path: Path, embedder) -> None:
    corpus = write_corpus(tmp_path / "corpus", ANIMALS)
    index = rag.open_index(tmp_path / "idx", embedder=embedder)
    index.ingest(corpus, progress=False)
    (corpus / "camels.txt").write_bytes(b"\x00\x01\x02" * 100)
    report = index.ingest(corpus, progress=False)
    assert [f.path for f in report.failed] == ["camels.txt"] and report.removed == []
    assert index.search("camel humps", k=1)[0].document == "camels.txt"


def test_too_large_files_are_skipped_by_the_size_setting(tmp_path: Path, embedder) -> None:
    corpus = write_corpus(tmp_path / "corpus", {"small.txt": "A small file about turtles."})
    (corpus / "big.txt").write_text("Turtles are reptiles. " * 60_000)  # about 1.3 MB
    index = rag.open_index(tmp_path / "idx", embedder=embedder, max_file_mb=1)
    report = index.ingest(corpus, progress=False)
    assert report.added == ["small.txt"]
    assert [f.path for f in report.failed] == ["big.txt"] and "too large" in report.failed[0].error


def test_ingesting_another_corpus_leaves_the_first_alone(tmp_path: Path, embedder) -> None:
    index = rag.open_index(tmp_path / "idx", embedder=embedder)
    index.ingest(SEEDS, progress=False)
    extra = write_corpus(tmp_path / "extra", {"otters.md": ANIMALS["otters.md"]})
    report = index.ingest(extra, progress=False)
    assert report.added == ["otters.md"] and report.removed == []
    assert {d.id for d in index.documents()} == {"000_7582f00bdfc6e56e.txt", "otters.md"}
    assert index.remove("otters.md") is True and index.remove("otters.md") is False
    assert [d.id for d in index.documents()] == ["000_7582f00bdfc6e56e.txt"]
    assert all(p.document != "otters.md" for p in index.search("sea otters sleep", k=5, mode="lexical"))


def test_a_corpus_jsonl_is_one_document_per_line(tmp_path: Path, embedder) -> None:
    lines = [
        {"_id": "doc-1", "title": "Kiwi", "text": "The kiwi is a flightless bird of New Zealand.", "url": "https://x.test/k"},
        {"_id": "doc-2", "title": "Emu", "text": "The emu is the tallest bird native to Australia."},
    ]
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    index = rag.open_index(tmp_path / "idx", embedder=embedder)
    report = index.ingest(path, progress=False)
    assert sorted(report.added) == ["doc-1", "doc-2"]
    top = index.search("Which bird lives in New Zealand?", k=1)[0]
    assert (top.document, top.title, top.url) == ("doc-1", "Kiwi", "https://x.test/k")


def test_the_readme_python_example_runs(tmp_path: Path, monkeypatch) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = readme.split("<!-- python-api-example -->", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README's own example
    assert "Makei" in namespace["passages"][0].text
