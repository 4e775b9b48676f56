from __future__ import annotations

from rag.chunking import chunk_text, sentence_spans
from rag.documents import load_file

from conftest import SEEDS


def test_sentences_ignore_hard_wraps_and_keep_offsets() -> None:
    text = "First sentence runs\nacross a wrapped line. Second one.\n\nA new paragraph here."
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == [
        "First sentence runs\nacross a wrapped line.",
        "Second one.",
        "A new paragraph here.",
    ]


def test_chunks_fit_the_model_and_point_into_the_document(embedder) -> None:
    doc = load_file(next(SEEDS.glob("*.txt")), "seed.txt")
    for budget in (40, 128, 254):
        chunks = chunk_text(doc.id, doc.text, embedder.token_offsets, budget, overlap=1)
        assert chunks, budget
        for chunk in chunks:
            assert doc.text[chunk.start : chunk.end] == chunk.text
            assert len(embedder.token_offsets([chunk.text])[0]) <= budget
        # together the chunks cover every sentence of the document
        covered = "".join(doc.text[c.start : c.end] for c in chunks)
        for a, b in sentence_spans(doc.text):
            assert doc.text[a:b] in covered


def test_neighbouring_chunks_share_one_sentence(embedder) -> None:
    doc = load_file(next(SEEDS.glob("*.txt")), "seed.txt")
    chunks = chunk_text(doc.id, doc.text, embedder.token_offsets, 60, overlap=1)
    assert len(chunks) >= 3
    spans = sentence_spans(doc.text)
    overlapping = 0
    for left, right in zip(chunks, chunks[1:]):
        inside_left = [s for s in spans if left.start <= s[0] and s[1] <= left.end]
        if len(inside_left) >= 2:  # a one-sentence window cannot repeat its sentence and still move on
            assert right.start == inside_left[-1][0]
            overlapping += 1
        else:
            assert right.start >= left.end
    assert overlapping >= 1
    no_overlap = chunk_text(doc.id, doc.text, embedder.token_offsets, 60, overlap=0)
    assert all(a.end <= b.start for a, b in zip(no_overlap, no_overlap[1:]))


def test_a_sentence_longer_than_the_budget_is_cut_at_token_boundaries(embedder) -> None:
    text = "word " * 300 + "end."
    chunks = chunk_text("long", text.strip(), embedder.token_offsets, 100, overlap=1)
    assert len(chunks) >= 3
    assert all(len(embedder.token_offsets([c.text])[0]) <= 100 for c in chunks)
    assert chunks[-1].text.endswith("end.")


def test_chunk_ids_are_stable_and_change_with_the_text(embedder) -> None:
    text = "Alpha is first. Beta is second. Gamma is third."
    a = chunk_text("d", text, embedder.token_offsets, 8, overlap=0)
    b = chunk_text("d", text, embedder.token_offsets, 8, overlap=0)
    assert [c.id for c in a] == [c.id for c in b]
    c = chunk_text("d", text.replace("Gamma", "Delta"), embedder.token_offsets, 8, overlap=0)
    assert a[0].id == c[0].id and a[-1].id != c[-1].id
