"""The chat's pieces that need no browser: uploads and removal, rendering, examples, feedback export."""

from __future__ import annotations

from pathlib import Path

import rag
from rag.web import feedback, render
from rag.web.server import example_questions
from rag.web.uploads import add_uploads, remove_document

from conftest import SEEDS


def test_uploads_accept_good_files_and_name_each_rejected_one(tmp_path: Path, embedder) -> None:
    index = rag.open_index(tmp_path / "idx", embedder=embedder, max_file_mb=1)
    index.ingest(SEEDS, progress=False)
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "heron.md").write_text("# Herons\n\nGrey herons nest in colonies called heronries.")
    (incoming / "tool.exe").write_bytes(b"MZ\x00\x00")
    (incoming / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    (incoming / "huge.txt").write_text("x " * 600_000)
    message = add_uploads(index, sorted(incoming.iterdir())).message()
    assert "✅ uploads/heron.md" in message
    assert "tool.exe: not a supported type" in message
    assert "huge.txt: too large" in message
    assert "broken.pdf" in message and "PDF" in message
    assert not (tmp_path / "idx" / "uploads" / "broken.pdf").exists()
    assert index.search("Where do grey herons nest?", k=1)[0].document == "uploads/heron.md"
    assert {d.id for d in index.documents()} == {"000_7582f00bdfc6e56e.txt", "uploads/heron.md"}

    # a restart ingests the corpus again: the upload stays
    index.ingest(SEEDS, progress=False)
    assert "uploads/heron.md" in {d.id for d in index.documents()}

    assert remove_document(index, "uploads/heron.md") == "Removed uploads/heron.md."
    assert not (tmp_path / "idx" / "uploads" / "heron.md").exists()
    assert [d.id for d in index.documents()] == ["000_7582f00bdfc6e56e.txt"]
    assert "not in the index" in remove_document(index, "uploads/heron.md")


def test_answer_rendering_links_markers_and_marks_the_quote(seed_index: rag.Index) -> None:
    answer = seed_index.ask("Who is Belarus's foreign minister?")
    md = render.answer_html(answer, turn=3)
    assert '<a href="#cite-3-1" class="cite">[1]</a>' in md and "Extracted from the documents" in md
    panel = render.sources_html([(3, answer)])
    assert 'id="cite-3-1"' in panel and "<mark>Belarus's foreign minister Vladimir Makei" in panel
    assert answer.citations[0].url in panel
    refusal = seed_index.ask("What is the capital of Australia?")
    assert "Not found in the documents" in render.answer_html(refusal, 4)
    assert "No passage was relevant enough" in render.sources_html([(3, answer), (4, refusal)])


def test_an_llm_answer_renders_its_markdown_and_flags_unsupported_claims() -> None:
    cite = rag.Citation(1, "p1", "seed.txt", "Belarus", None, "Makei said so.", 0, 14)
    wrong = rag.Citation(2, "p2", "seed.txt", "Belarus", None, "NATO called it alarming.", 20, 44, supported=False)
    text = ("The reactions:\n\n- **Belarus:** no soldier stays [1].\n- **NATO:** it ended the drills [2].\n"
            "<img src=x onerror=alert(1)>")
    support = rag.types.Support(3, 1, 2, 1, 0, ["NATO ended the drills", "The West is <b>afraid</b>"])
    answer = rag.Answer("What happened?", text, [cite, wrong], [], False, "llm", model="openai/x", partial=True,
                        support=support)
    md = render.answer_html(answer, turn=2)
    assert "<li><strong>Belarus:</strong>" in md and "\\-" not in md  # the model's list and bold render
    assert '<a href="#cite-2-1" class="cite">[1]</a>' in md
    assert 'class="cite unsupported"' in md and "[2]⚠</a>" in md
    assert "Not supported by the passages" in md and "“NATO ended the drills”" in md
    assert "<img" not in md and "&lt;img" in md and "<b>afraid" not in md  # HTML is text, from model or claim
    assert "answers only part of the question" in md
    panel = render.sources_html([(2, answer)])
    assert "does not support the claim" in panel


def test_examples_fit_the_corpus(seed_index: rag.Index, tmp_path: Path, embedder) -> None:
    assert "Who is Belarus's foreign minister?" in example_questions(seed_index)
    other = rag.open_index(tmp_path / "idx", embedder=embedder, corpus=tmp_path / "animals")
    (tmp_path / "animals").mkdir()
    (tmp_path / "animals" / "otters.md").write_text("# Sea otters\n\nSea otters hold hands while they sleep.")
    other.ingest(progress=False)
    assert example_questions(other) == ["What are Sea otters?"]  # from its own heading


def test_feedback_export_keeps_thumbs_up_and_the_latest_vote(tmp_path: Path, seed_index: rag.Index) -> None:
    good = seed_index.ask("Who is Belarus's foreign minister?")
    refused = seed_index.ask("What is the capital of Australia?")
    other = seed_index.ask("What did NATO call Russia's drills?")
    feedback.record(tmp_path, good, liked=False)
    feedback.record(tmp_path, good, liked=True)  # changed its mind: the latest vote wins
    feedback.record(tmp_path, refused, liked=True)
    feedback.record(tmp_path, other, liked=False)
    questions, skipped = feedback.export(tmp_path)
    assert skipped == 1 and len(questions) == 2
    first, second = questions
    assert first["question"] == good.question and first["answerable"] and "[1]" not in first["answers"][0]
    assert first["sources"] == ["000_7582f00bdfc6e56e.txt"]
    assert second == {"id": second["id"], "question": refused.question, "answers": [], "answerable": False,
                      "sources": []}
