"""Sentence evidence and distinct documents in the default ranking (issue 15), with the real embedding model.

A passage is scored by its best-matching sentence as well as as a whole, from sentence vectors stored at
ingestion (rag.sentence_vectors); the best passage of each document comes before any document's second.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

import rag
from rag.chunking import sentence_spans
from rag.sentence_vectors import FILE, SentenceVectors, sentence_texts
from rag.settings import Settings

HARBOUR = ("# Port Elms\n\nPort Elms grew around a fish market in the eighteenth century. The town hall was rebuilt "
           "in brick after the fire of 1871. Ferries to the islands leave twice a day in summer. The old rope walk "
           "is now a museum of sail making. Sea otters in the bay crack shellfish open by hammering them on flat "
           "rocks. A lifeboat station has stood at the harbour mouth since 1902.\n")
OTTERS = ("# Sea otters\n\nSea otters are marine mammals of the North Pacific coast. They have the densest fur "
          "of any animal and spend most of their lives floating on their backs in kelp forests.\n")
QUESTION = "How do sea otters get into shellfish?"


def corpus(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def dense_ranked(tmp_path: Path, embedder, files: dict[str, str] | None = None) -> tuple[rag.Index, list[str]]:
    """An index of `files` (the harbour and otters passages by default) ranked by its dense side alone, and the
    ids of its top 2 for QUESTION."""
    index = rag.open_index(tmp_path / "index", embedder=embedder, dense_weight=1.0)
    index.ingest(corpus(tmp_path, files or {"harbour.md": HARBOUR, "otters.md": OTTERS}), progress=False)
    return index, [p.id for p in index.search(QUESTION, k=2)]


def test_ingestion_stores_each_chunks_sentence_vectors_once(tmp_path: Path, counting) -> None:
    root = corpus(tmp_path, {"harbour.md": HARBOUR, "otters.md": OTTERS})
    index = rag.open_index(tmp_path / "index", embedder=counting)
    report = index.ingest(root, progress=False)
    chunks, _ = index.store.get(list(index.store.lexical.ids_of(["harbour.md", "otters.md"])))
    assert index.sentences.count() == len(chunks) == report.chunks
    rows = index.sentences.rows(list(chunks), index.store.titles)
    assert rows.keys() == chunks.keys()
    for chunk_id, row in rows.items():  # one vector per title-prefixed sentence, beside the chunk's own
        assert row.sentences.shape == (max(len(sentence_spans(chunks[chunk_id].text)), 1), 384)
        assert sentence_texts(chunks[chunk_id])[0].startswith(chunks[chunk_id].title + "\n")
        assert row.document == chunks[chunk_id].document and row.vector.shape == (384,)
    embedded = counting.texts
    again = index.ingest(root, progress=False)
    assert again.embedded == 0 and counting.texts == embedded  # nothing re-embedded, sentences included


def test_a_passage_found_by_its_one_matching_sentence(tmp_path: Path, embedder) -> None:
    """The dense side alone (dense_weight 1): scored as a whole, the passage vaguely about otters wins; scored by
    its best sentence too, the harbour passage whose one sentence answers the question comes first."""
    root = corpus(tmp_path, {"harbour.md": HARBOUR, "otters.md": OTTERS})
    whole = rag.open_index(tmp_path / "index", embedder=embedder, dense_weight=1.0, sentence_weight=0.0)
    whole.ingest(root, progress=False)
    assert [p.document for p in whole.search(QUESTION, k=2)] == ["otters.md", "harbour.md"]
    by_sentence = rag.open_index(tmp_path / "index", embedder=embedder, dense_weight=1.0)
    first = by_sentence.search(QUESTION, k=2)
    assert [p.document for p in first] == ["harbour.md", "otters.md"]
    assert first[0].dense_score < first[1].dense_score  # the passages' own cosines did not change


def test_missing_sentence_vectors_are_made_on_first_search(tmp_path: Path, embedder) -> None:
    """An index built before sentence vectors (or a replica that ingested nothing) ranks the same."""
    root = corpus(tmp_path, {"harbour.md": HARBOUR, "otters.md": OTTERS, "owls.md": "# Owls\n\nOwls turn their "
                             "heads up to 270 degrees because they cannot move their eyes.\n"})
    index = rag.open_index(tmp_path / "index", embedder=embedder)
    index.ingest(root, progress=False)
    before = [(p.id, p.score) for p in index.search(QUESTION, k=3)]
    index.sentences.close()
    with sqlite3.connect(tmp_path / "index" / FILE) as db:
        db.execute("DELETE FROM chunks")
    reopened = rag.open_index(tmp_path / "index", embedder=embedder)
    assert reopened.sentences.count() == 0
    after = [(p.id, p.score) for p in reopened.search(QUESTION, k=3)]
    assert [c for c, _ in after] == [c for c, _ in before]
    assert [s for _, s in after] == pytest.approx([s for _, s in before])
    assert reopened.sentences.count() == 3  # every candidate's row, made once
    ids = [c for c, _ in after]
    assert reopened.sentences.rows(ids, reopened.store.titles).keys() == set(ids)
    # a row made under another title (the document's title changed since) is not used: it is made again
    assert reopened.sentences.rows(ids, lambda docs: {d: "A new title" for d in docs}) == {}
    assert reopened.sentences.rows(ids, lambda docs: {}) == {}  # nor one of a document the index no longer holds


def test_the_best_passage_of_another_document_comes_second(tmp_path: Path, embedder) -> None:
    keepers = "\n\n".join(
        f"## Keeper {name}\n\nThe lighthouse keeper {name} trimmed the lamp wick of the lighthouse every night. "
        f"{name} wound the clockwork of the lighthouse lens at dusk and at midnight. The keeper logged every ship "
        f"that passed the lighthouse. {name} painted the lighthouse tower white each spring. The keeper lived in the "
        f"lighthouse cottage for {n + 3} years, and the lighthouse board paid {name} a keeper's wage."
        for n, name in enumerate(["Abel", "Berta", "Cyrus", "Dora", "Emil"]))
    root = corpus(tmp_path, {"lighthouse.md": f"# Lighthouse keepers\n\n{keepers}\n",
                             "coast.md": "# The coast path\n\nThe lighthouse keeper walked the coast path from the "
                             "lighthouse to the village every morning, then back to the lighthouse.\n",
                             "harbour.md": "# The harbour\n\nThe harbour has a lighthouse at its mouth.\n",
                             **{f"{animal}.md": f"# {animal.title()}\n\nThe {animal} is an animal of the {place}.\n"
                                for animal, place in (("camel", "desert"), ("owl", "forest"), ("otter", "river"),
                                                      ("ibex", "mountains"), ("gecko", "tropics"))}})
    plain = rag.open_index(tmp_path / "index", embedder=embedder, distinct_documents=False)
    plain.ingest(root, progress=False)
    assert [p.document for p in plain.search("lighthouse keeper", k=6)] == ["lighthouse.md"] * 4 + [
        "coast.md", "harbour.md"]
    distinct = rag.open_index(tmp_path / "index", embedder=embedder)
    ranked = distinct.search("lighthouse keeper", k=6)
    # the coast path's passage (scored 0.68 of the best) comes second; the harbour's one line (0.31) stays behind
    assert [p.document for p in ranked] == ["lighthouse.md", "coast.md"] + ["lighthouse.md"] * 3 + ["harbour.md"]
    assert [p.rank for p in ranked] == [1, 2, 3, 4, 5, 6]
    assert ranked[5].score < 0.5 * ranked[0].score <= ranked[1].score


def test_the_defaults_are_the_measured_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RAG_DENSE_WEIGHT", "RAG_SENTENCE_WEIGHT", "RAG_DISTINCT_DOCUMENTS"):
        monkeypatch.delenv(name, raising=False)
    s = Settings(_env_file=None)
    assert (s.fusion, s.dense_weight, s.sentence_weight, s.distinct_documents) == ("convex", 0.5, 0.7, True)
    monkeypatch.setenv("RAG_SENTENCE_WEIGHT", "0")
    monkeypatch.setenv("RAG_DISTINCT_DOCUMENTS", "false")
    s = Settings(_env_file=None)
    assert (s.sentence_weight, s.distinct_documents) == (0.0, False)


def test_rows_of_an_older_format_are_dropped_and_made_again(tmp_path: Path, embedder) -> None:
    index, expected = dense_ranked(tmp_path, embedder)
    index.sentences.close()
    with sqlite3.connect(tmp_path / "index" / FILE) as db:  # float16 rows of the first format, under version 0
        db.execute("UPDATE chunks SET sentences = zeroblob(length(sentences)), vector = zeroblob(length(vector))")
        db.execute("PRAGMA user_version = 0")
    reopened = rag.open_index(tmp_path / "index", embedder=embedder, dense_weight=1.0)
    assert reopened.sentences.count() == 0
    assert [p.id for p in reopened.search(QUESTION, k=2)] == expected


def test_a_damaged_sentence_file_is_made_again(tmp_path: Path, embedder) -> None:
    index, expected = dense_ranked(tmp_path, embedder)
    index.sentences.close()
    for name in (FILE, FILE + "-wal", FILE + "-shm"):
        (tmp_path / "index" / name).unlink(missing_ok=True)
    (tmp_path / "index" / FILE).write_bytes(b"this is not a database" * 1000)
    reopened = rag.open_index(tmp_path / "index", embedder=embedder, dense_weight=1.0)
    assert [p.id for p in reopened.search(QUESTION, k=2)] == expected
    assert reopened.sentences.count() == 2


def test_no_sentence_vectors_are_made_when_the_ranking_does_not_read_them(tmp_path: Path, counting) -> None:
    root = corpus(tmp_path, {"harbour.md": HARBOUR, "otters.md": OTTERS})
    index = rag.open_index(tmp_path / "index", embedder=counting, sentence_weight=0.0)
    report = index.ingest(root, progress=False)
    assert counting.texts == report.embedded == report.chunks and index.sentences.count() == 0
    assert index.search(QUESTION, k=1) and index.sentences.count() == 0


def test_a_busy_file_costs_the_rows_keeping_not_the_search(tmp_path: Path, embedder) -> None:
    """Another process holds the write lock: the search still ranks with the rows it makes, keeps none, and the
    next search after the lock is gone keeps them (no transaction left open)."""
    index, expected = dense_ranked(tmp_path, embedder)
    with index.sentences.lock:
        index.sentences.db.execute("DELETE FROM chunks")
        index.sentences.db.execute("PRAGMA busy_timeout = 100")
    other = sqlite3.connect(tmp_path / "index" / FILE)
    other.execute("BEGIN IMMEDIATE")
    assert [p.id for p in index.search(QUESTION, k=2)] == expected
    assert index.sentences.count() == 0 and not index.sentences.db.in_transaction
    other.rollback()
    other.close()
    assert [p.id for p in index.search(QUESTION, k=2)] == expected
    assert index.sentences.count() == 2


def test_a_file_damaged_past_its_header_is_made_again_on_first_read(tmp_path: Path, embedder) -> None:
    notes = {f"note{n}.md": f"# Note {n}\n\n{HARBOUR.split(chr(10))[2]} Note {n}.\n" for n in range(60)}
    index, expected = dense_ranked(tmp_path, embedder, notes | {"otters.md": OTTERS})
    index.sentences.close()
    path = tmp_path / "index" / FILE
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    assert len(data) > 8192
    data[4096:] = bytes(range(256)) * ((len(data) - 4096) // 256) + bytes(len(data) % 256)
    path.write_bytes(bytes(data))
    reopened = rag.open_index(tmp_path / "index", embedder=embedder, dense_weight=1.0)
    assert [p.id for p in reopened.search(QUESTION, k=2)] == expected
    assert reopened.sentences.count() > 0


def test_rows_of_another_embedding_model_are_dropped(tmp_path: Path, counting) -> None:
    root = corpus(tmp_path, {"harbour.md": HARBOUR, "otters.md": OTTERS})
    index = rag.open_index(tmp_path / "index", embedder=counting)
    index.ingest(root, progress=False)
    assert index.sentences.count() == 2
    counting.name = "another-model"
    assert SentenceVectors(tmp_path / "index", counting).count() == 0


def test_changed_and_removed_documents_leave_no_rows_behind(tmp_path: Path, embedder) -> None:
    """The rows are the live chunks', after an edit, a removal through the API and a file deleted from the corpus
    (the file would otherwise grow by a row per chunk ever replaced)."""
    owls = "# Owls\n\nOwls turn their heads up to 270 degrees because they cannot move their eyes.\n"
    root = corpus(tmp_path, {"harbour.md": HARBOUR, "otters.md": OTTERS, "owls.md": owls})
    index = rag.open_index(tmp_path / "index", embedder=embedder)
    index.ingest(root, progress=False)

    def rows_are_the_live_chunks() -> None:
        live = set(index.store.lexical.ids_of(["harbour.md", "otters.md", "owls.md"]))
        with sqlite3.connect(tmp_path / "index" / FILE) as db:
            assert {r[0] for r in db.execute("SELECT id FROM chunks")} == live
        assert index.sentences.count() == index.store.count() == len(live)

    rows_are_the_live_chunks()
    (root / "harbour.md").write_text(HARBOUR.replace("twice a day", "three times a day"))
    assert index.ingest(root, progress=False).updated == ["harbour.md"]
    rows_are_the_live_chunks()
    assert index.remove("otters.md")
    rows_are_the_live_chunks()
    (root / "owls.md").unlink()
    report = index.ingest(root, progress=False)  # owls.md is gone; otters.md, still in the folder, comes back
    assert report.removed == ["owls.md"] and report.added == ["otters.md"]
    rows_are_the_live_chunks()
    assert {p.document for p in index.search(QUESTION, k=3)} == {"harbour.md", "otters.md"}


def test_a_busy_file_does_not_hold_up_a_removal(tmp_path: Path, embedder, caplog) -> None:
    """Another process holds the sentence file's write lock: removing a document waits a moment, not 30 s, keeps
    the stale row, and searches go on; a hook that fails never fails the committed write."""
    index, _ = dense_ranked(tmp_path, embedder)
    other = sqlite3.connect(tmp_path / "index" / FILE)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.perf_counter()
        assert index.remove("otters.md")
        assert time.perf_counter() - started < 10  # a bounded wait (it was 30 s), not a speed target
        assert [p.document for p in index.search(QUESTION, k=2)] == ["harbour.md"]
    finally:
        other.rollback()
        other.close()
    assert index.sentences.count() == 2 and not index.sentences.db.in_transaction  # the row is kept, not lost
    index.store.on_removed = lambda ids: 1 / 0
    assert index.remove("harbour.md") and index.store.count() == 0
    assert "after removing" in caplog.text
