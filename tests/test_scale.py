"""The index at scale, as users meet it: unchanged files are not read again, big inputs stay in bounded memory,
progress comes by chunks, many threads share one index, an index built with another model is never deleted by
opening it, an evaluation reuses the index built from its corpus, and an index of the previous format is taken
over in place. Real model, real Chroma, real tantivy; CLI checks run `python -m rag.cli` in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import rag
import rag.ingest
from rag.chunking import chunk_text
from rag.corpus import in_shard
from rag.jsonl_corpus import jsonl_lines
from rag.errors import ModelMismatchError
from rag.records import ChunkRecord, one_key_per_field

from conftest import ANIMALS, ROOT, SEEDS, write_corpus


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, env={**os.environ, **(env or {})})


def test_unchanged_files_are_not_read_again(tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = write_corpus(tmp_path / "corpus", ANIMALS)
    index = rag.open_index(tmp_path / "idx", embedder=embedder)
    parsed: list[str] = []
    hashed: list[str] = []
    real_load, real_hash = rag.ingest.load_file, rag.ingest.file_sha256
    monkeypatch.setattr(rag.ingest, "load_file", lambda path, *a: parsed.append(path.name) or real_load(path, *a))
    monkeypatch.setattr(rag.ingest, "file_sha256", lambda path: hashed.append(path.name) or real_hash(path))
    assert sorted(index.ingest(corpus, progress=False).added) == sorted(ANIMALS)
    assert len(parsed) == 3

    parsed.clear()
    again = index.ingest(corpus, progress=False)
    assert parsed == [] and hashed == [] and sorted(again.unchanged) == sorted(ANIMALS)

    # touched, same bytes: the hash decides, nothing is parsed, and the new mtime is recorded
    later = time.time() + 60
    os.utime(corpus / "camels.txt", (later, later))
    again = index.ingest(corpus, progress=False)
    assert parsed == [] and hashed == ["camels.txt"] and again.embedded == 0
    hashed.clear()
    assert index.ingest(corpus, progress=False).unchanged == sorted(ANIMALS) and hashed == []

    # same size, other bytes: parsed and embedded again
    (corpus / "camels.txt").write_text(ANIMALS["camels.txt"].replace("100 litres", "200 litres"))
    changed = index.ingest(corpus, progress=False)
    assert parsed == ["camels.txt"] and changed.updated == ["camels.txt"]
    assert "200 litres" in index.search("How much can a camel drink?", k=1)[0].text


def test_a_15_mb_line_is_cut_in_bounded_memory(embedder) -> None:
    words = "the quick brown fox jumps over a lazy dog while seven wizards jinx liquor jugs".split()
    rng = np.random.default_rng(1)
    text = " ".join(words[i] for i in rng.integers(0, len(words), 3_000_000))  # ~15 MB, no newline, no full stop
    tracemalloc.start()
    try:
        chunks = chunk_text("big.txt", text, embedder.token_offsets, 126, 1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(text) > 14_000_000 and len(chunks) > 20_000
    assert all(text[c.start:c.end] == c.text and len(c.text) < 2100 for c in chunks)
    assert peak < 300_000_000  # the text and its chunks: not gigabytes


def test_a_corpus_jsonl_streams_and_names_an_overlong_line(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    with path.open("w") as handle:
        handle.write(json.dumps({"_id": "a", "text": "Short and fine."}) + "\n")
        handle.write(json.dumps({"_id": "b", "text": "x " * 600_000}) + "\n")  # 1.2 MB
        handle.write(json.dumps({"_id": "c", "text": "Also fine."}) + "\n")
    items = [(n, item) for n, item, _ in jsonl_lines(path, max_bytes=1_000_000)]
    assert [n for n, _ in items] == [1, 2, 3]
    assert [getattr(item, "id", None) for _, item in items] == ["a", None, "c"]
    assert items[1][1].path == "corpus.jsonl:2" and "longer than the 1 MB limit" in items[1][1].error


def test_shards_split_documents_between_workers() -> None:
    ids = [f"doc_{i}.txt" for i in range(1000)]
    parts = [[d for d in ids if in_shard(d, (i, 3))] for i in (1, 2, 3)]
    assert sorted(sum(parts, [])) == sorted(ids)  # every document in exactly one shard
    assert all(250 < len(p) < 420 for p in parts)


def test_progress_comes_as_json_lines_by_chunks(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    for i in range(8):
        write_corpus(corpus, {f"doc{i}.txt": f"Document {i}.\n\n" + f"Sentence {i} about lighthouses. " * 60})
    done = cli("ingest", str(corpus), "--index", str(tmp_path / "idx"), "--json", "--progress")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    events, report = lines[:-1], lines[-1]
    assert events and all(e["event"] == "progress" for e in events)
    assert events[-1]["done"] and events[-1]["chunks"] == report["embedded"] > 8
    assert events[-1]["files"] == events[-1]["files_total"] == 8 and events[-1]["eta_s"] == 0
    assert {"chunks_per_s", "bytes", "bytes_total", "elapsed_s"} <= set(events[-1])
    assert {"added", "updated", "removed", "unchanged", "failed", "chunks", "embedded", "seconds"} <= set(report)
    assert "event" not in report and report["added"] == 8
    plain = cli("ingest", str(corpus), "--index", str(tmp_path / "idx"), "--json")
    assert len(plain.stdout.splitlines()) == 1  # without --progress, --json prints the report alone


def test_many_threads_search_while_one_ingests(tmp_path: Path, embedder) -> None:
    index = rag.open_index(tmp_path / "idx", embedder=embedder)
    index.ingest(SEEDS, progress=False)
    corpus = tmp_path / "corpus"
    for i in range(60):
        write_corpus(corpus, {f"doc{i:02d}.txt": f"Ledger {i}\n\nThe keeper of ledger {i} counts {i * 7} lanterns "
                                                 f"in the harbour of Quorvath number {i}."})
    errors: list[BaseException] = []
    searches = [0]
    stop = threading.Event()

    def searcher(n: int) -> None:
        modes = ("hybrid", "dense", "lexical")
        while not stop.is_set():
            try:
                only = ["000_7582f00bdfc6e56e.txt"] if n % 4 == 3 else None
                hits = index.search("Who counts lanterns in the harbour of Quorvath?", k=5, mode=modes[n % 3],
                                    documents=only)
                assert all(h.text and h.document for h in hits)
                index.documents()
                searches[0] += 1
            except BaseException as exc:  # noqa: BLE001 - collected and re-raised in the test thread
                errors.append(exc)
                return

    threads = [threading.Thread(target=searcher, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    try:
        rag.ingest.GROUP_CHUNKS, saved = 8, rag.ingest.GROUP_CHUNKS  # many small batches while threads search
        try:
            report = index.ingest(corpus, progress=False, prune=False)
            for i in range(0, 60, 5):
                assert index.remove(f"doc{i:02d}.txt")
        finally:
            rag.ingest.GROUP_CHUNKS = saved
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert errors == [] and searches[0] > 20
    assert len(report.added) == 60
    assert len(index.documents()) == 1 + 60 - 12
    top = index.search("Who counts 301 lanterns in the harbour?", k=1, mode="lexical")[0]
    assert top.document == "doc43.txt"
    assert sorted(index.store.lexical.all_ids()) == sorted(index.store.dense.chunks.get(include=[])["ids"])


def test_opening_with_another_model_never_deletes_through_the_cli_or_the_server(tmp_path: Path, embedder) -> None:
    index_dir = tmp_path / "idx"
    index = rag.open_index(index_dir, embedder=embedder)
    chunks = index.ingest(SEEDS, progress=False).chunks
    index.store.close()
    other = {"RAG_EMBEDDING_MODEL": "/models/another-model"}
    for args in (["search", "Who is Belarus's foreign minister?", "--index", str(index_dir)],
                 ["ask", "Who is Belarus's foreign minister?", "--index", str(index_dir)],
                 ["ingest", str(SEEDS), "--index", str(index_dir)],
                 ["serve", "--index", str(index_dir), "--port", "1"]):
        done = cli(*args, env=other, timeout=120)
        assert done.returncode == 1, (args, done.stderr)
        line = done.stderr.strip().splitlines()[-1]
        assert line.startswith("error: ") and "/models/another-model" in line and embedder.name in line, line
        assert "rag ingest --rebuild" in line
    kept = rag.open_index(index_dir, embedder=embedder)
    assert kept.store.dense.count() == chunks
    assert "Makei" in kept.search("Who is Belarus's foreign minister?", k=1)[0].text
    kept.store.close()

    # `rag ingest --rebuild` replaces it (the bundled model under its path: another name, the same weights)
    from rag.embeddings import bundled_model_path

    rebuilt = cli("ingest", str(SEEDS), "--index", str(index_dir), "--rebuild", "--json",
                  env={"RAG_EMBEDDING_MODEL": bundled_model_path()})
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert json.loads(rebuilt.stdout)["added"] == 1
    with pytest.raises(ModelMismatchError):
        rag.open_index(index_dir, embedder=embedder)


def test_an_eval_reuses_the_index_built_from_its_corpus(tmp_path: Path, embedder) -> None:
    from rag.eval.run import open_eval_index

    corpus = write_corpus(tmp_path / "corpus", ANIMALS)
    app = tmp_path / "app"
    rag.open_index(app, embedder=embedder).ingest(corpus, progress=False)
    index, report = open_eval_index(corpus, app, embedder=embedder, progress=False)
    assert Path(index.settings.index_dir) == app and report.embedded == 0
    assert not (app / "eval-indexes").exists()

    other = write_corpus(tmp_path / "other", {"bees.txt": "Honey bees dance to show where flowers are."})
    index, report = open_eval_index(other, app, embedder=embedder, progress=False)
    assert (app / "eval-indexes") in Path(index.settings.index_dir).parents and report.added == ["bees.txt"]
    smaller = open_eval_index(corpus, app, embedder=embedder, progress=False, chunk_tokens=32)[0]
    assert Path(smaller.settings.index_dir) != app  # other chunk settings: not the same index


def test_an_index_of_the_previous_format_is_taken_over_in_place(tmp_path: Path, embedder) -> None:
    """Format 1 (no catalog; text as the Chroma document; a generation stamp): opened, it gets a catalog from the
    chunks' own metadata, an incomplete document is dropped, and nothing complete is embedded again."""
    from rag.dense import make_client
    from rag.ingest import _real_title, _title_prefix, settings_fingerprint, source_key
    from rag.documents import load_corpus

    corpus = write_corpus(tmp_path / "corpus", ANIMALS)
    settings = rag.Settings(index_dir=tmp_path / "idx")
    fingerprint = settings_fingerprint(settings, embedder.name)
    client = make_client(settings)
    old = client.create_collection("rag-chunks", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None,
                                   metadata={"embedding_model": embedder.name, "generation": "abc"})
    for doc in load_corpus(corpus).documents:
        _, budget = _title_prefix(_real_title(doc), embedder, settings)
        chunks = chunk_text(doc.id, doc.text, embedder.token_offsets, budget, 1)
        records = [ChunkRecord(c.id, c.text, doc.id, doc.title, doc.url, c.start, c.end, c.position, doc.sha256,
                               fingerprint, len(chunks) + (doc.id == "otters.md"), source_key(corpus))
                   for c in chunks]  # otters.md claims one chunk more than stored: incomplete
        metadatas = [{k: v for k, v in one_key_per_field(r).items() if k != "text"} for r in records]
        old.upsert(ids=[r.id for r in records], embeddings=embedder.embed([r.text for r in records]),
                   documents=[r.text for r in records], metadatas=metadatas)
    del old, client

    index = rag.open_index(tmp_path / "idx", embedder=embedder)
    assert index.store.dense.migrated == 2
    assert [d.id for d in index.documents()] == ["camels.txt", "notes/owls.md"]
    assert index.search("How do owls look around?", k=1)[0].document == "notes/owls.md"
    report = index.ingest(corpus, progress=False)
    assert sorted(report.unchanged) == ["camels.txt", "notes/owls.md"] and report.added == ["otters.md"]
    assert report.embedded == len(index.store.lexical.ids_of(["otters.md"]))


def test_chunks_written_one_key_per_field_are_still_read(tmp_path: Path, embedder) -> None:
    """An index written before chunk metadata was packed answers the same and is not re-embedded; new writes
    are packed into two keys."""
    corpus = write_corpus(tmp_path / "corpus", ANIMALS)
    (corpus / "bash.pdf").write_bytes((ROOT / "tests" / "fixtures" / "bash-man-special-parameters.pdf").read_bytes())
    index = rag.open_index(tmp_path / "idx", embedder=embedder)
    index.ingest(corpus, progress=False)
    question = "What does the special parameter $$ expand to?"
    before = [(h.id, h.text, h.title, h.page, h.page_end) for h in index.search(question, k=3)]
    assert before[0][3] in (1, 2)  # a PDF passage keeps its page through the round trip
    chunks = index.store.dense.chunks
    got = chunks.get(include=["metadatas", "embeddings"])
    assert all(set(m) == {"document", "chunk"} for m in got["metadatas"])
    records = [ChunkRecord.from_chroma(i, None, m) for i, m in zip(got["ids"], got["metadatas"])]
    chunks.upsert(ids=got["ids"], embeddings=got["embeddings"], metadatas=[one_key_per_field(r) for r in records])
    index.store.close()

    again = rag.open_index(tmp_path / "idx", embedder=embedder)
    assert "title" in again.store.dense.chunks.get(ids=[before[0][0]], include=["metadatas"])["metadatas"][0]
    assert [(h.id, h.text, h.title, h.page, h.page_end) for h in again.search(question, k=3)] == before
    report = again.ingest(corpus, progress=False)
    assert report.embedded == 0 and not report.added and not report.updated

    (corpus / "camels.txt").write_text("Camels close their nostrils in a sandstorm.")  # an old-layout document changes
    report = again.ingest(corpus, progress=False)
    assert report.updated == ["camels.txt"]
    hit = again.search("What do camels do in a sandstorm?", k=1)[0]
    assert hit.document == "camels.txt" and "nostrils" in hit.text
    assert again.store.local.in_step() and again.store.lexical.count() == again.store.dense.count()


def test_a_second_writer_of_one_folder_is_refused_before_it_changes_anything(tmp_path: Path, embedder) -> None:
    index_dir = tmp_path / "idx"
    index = rag.open_index(index_dir, embedder=embedder)
    chunks = index.ingest(SEEDS, progress=False).chunks
    index.store.lexical.claim()  # this process writes the folder (as a server does while it ingests)
    try:
        (tmp_path / "more").mkdir()
        (tmp_path / "more" / "otters.md").write_text("# Otters\n\nSea otters hold hands while they sleep.\n")
        done = cli("ingest", str(tmp_path / "more"), "--index", str(index_dir))
        assert done.returncode == 1 and "one process at a time may write an index folder" in done.stderr
        code = f"import rag; rag.open_index({str(index_dir)!r}).remove('000_7582f00bdfc6e56e.txt')"
        removal = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert removal.returncode == 1 and "LockBusyError" in removal.stderr
    finally:
        index.store.release()
    assert index.store.catalog.journal() == {} and index.store.dense.count() == chunks
    assert [d.id for d in index.documents()] == ["000_7582f00bdfc6e56e.txt"]


def test_a_damaged_lexical_index_is_made_again_from_chroma(tmp_path: Path, embedder) -> None:
    index_dir = tmp_path / "idx"
    index = rag.open_index(index_dir, embedder=embedder)
    index.ingest(SEEDS, progress=False)
    index.store.close()
    (index_dir / "lexical" / "meta.json").write_text("{not json")
    again = rag.open_index(index_dir, embedder=embedder)
    assert "Makei" in again.search("Who is Belarus's foreign minister?", k=1, mode="lexical")[0].text
    assert again.store.local.in_step() and again.store.lexical.count() == again.store.dense.count()
