"""Citations that open their source: pages in the JSON of answers and searches, the /source route (corpus files
only, read-only, inert), the sources panel's cards (one per distinct passage, the page, the link), and example
questions from the documents' own headings."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

import rag
from app_server import running_app
from rag import Answer, Citation, DocumentInfo, Passage
from rag.web import render
from rag.web.cards import card_of, cards
from rag.web.examples import from_headings, question_for, topic_of

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PDF = "reportlab-userguide-excerpt.pdf"
RML_QUESTION = "What does RML stand for in ReportLab?"
SECRET = "The outside secret must never be served."
HOSTILE_HTML = "<h1>Hostile page</h1><p>Harmless words.</p><script>document.title='pwned'</script>"


def make_corpus(root: Path) -> Path:
    root.mkdir(parents=True)
    shutil.copy(FIXTURES / PDF, root / PDF)
    (root / "notes.txt").write_text("Field notes\n\nThe zorblatt lantern is lit at dusk by the harbour keeper.\n")
    (root / "linked.txt").write_text("Linked notes\n\nThe quindle bell rings twice at noon.\n\n"
                                     "Original url: https://example.org/quindle\n")
    (root / "hostile.html").write_text(HOSTILE_HTML)
    (root / "later.txt").write_text("Later notes\n\nThis file becomes a symlink once the server runs.\n")
    return root


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("sources")
    corpus = make_corpus(base / "corpus")
    (base / "outside.txt").write_text(SECRET)
    with running_app(base / "index", corpus=corpus) as url:
        yield url, corpus, base


def test_answers_and_searches_name_the_pdf_page(served) -> None:
    url, _, _ = served
    with httpx.Client(base_url=url, timeout=120) as client:
        answer = client.post("/api/ask", json={"question": RML_QUESTION}).json()
        first = answer["citations"][0]
        assert first["document"] == PDF and "Report Markup" in first["quote"]
        assert first["page"] == 4  # page 4 of the excerpt (page 7 of the guide): where the quote is
        cited = next(p for p in answer["passages"] if p["id"] == first["passage_id"])
        assert cited["page"] == 4  # the passage holding the quote names its page too
        passages = client.post("/api/search", json={"query": "zorblatt lantern", "k": 1}).json()
        assert passages[0]["document"] == "notes.txt" and passages[0]["page"] is None
        assert passages[0]["page_end"] is None


def test_source_route_serves_indexed_corpus_files_inert(served) -> None:
    url, corpus, _ = served
    with httpx.Client(base_url=url, timeout=60) as client:
        pdf = client.get(f"/source/{PDF}")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content == (corpus / PDF).read_bytes()
        text = client.get("/source/notes.txt")
        assert text.headers["content-type"].startswith("text/plain") and "zorblatt lantern" in text.text
        page = client.get("/source/hostile.html")
        assert page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert policy.startswith("sandbox") and "default-src 'none'" in policy and "script" not in policy
        assert len(page.headers.get_list("content-security-policy")) == 1


@pytest.mark.parametrize("path", [
    "/source/%2e%2e/outside.txt", "/source/..%2Foutside.txt", "/source/%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "/source/%2Fetc%2Fpasswd", "/source//etc/passwd", "/source/outside.txt", "/source/missing.txt",
    "/source/corpus.jsonl", "/source/", "/source/notes.txt%00.pdf",
])
def test_nothing_outside_the_corpus_can_be_fetched(served, path: str) -> None:
    url, _, _ = served
    response = httpx.get(url + path, timeout=30)
    assert response.status_code == 404, path
    assert SECRET not in response.text and "root:" not in response.text
    assert "error" in response.json() and "\n" not in response.json()["error"]


def test_an_indexed_file_turned_into_a_link_outside_is_not_served(served) -> None:
    url, corpus, base = served
    assert httpx.get(f"{url}/source/later.txt", timeout=30).status_code == 200
    (corpus / "later.txt").unlink()
    (corpus / "later.txt").symlink_to(base / "outside.txt")
    response = httpx.get(f"{url}/source/later.txt", timeout=30)
    assert response.status_code == 404 and SECRET not in response.text


# --- the sources panel ------------------------------------------------------------------------------------------

def _passage(pid: str, start: int, text: str, pages: tuple = (), document: str = "guide.pdf") -> Passage:
    return Passage(pid, document, "The Guide", None, text, start, start + len(text), 0.5, 0.61, 3.2, 1, pages)


def test_overlapping_chunks_make_one_card_with_both_quotes_and_the_page() -> None:
    doc = "Alpha sentence one. Beta sentence two. Gamma sentence three. Delta sentence four."
    first = _passage("p1", 0, doc[:38], ((0, 12),))  # sentences one and two
    second = _passage("p2", 20, doc[20:61], ((20, 12), (39, 13)))  # two and three: overlaps the first
    other = _passage("p3", 0, "Unrelated text.", document="notes.txt")
    cites = [Citation(1, "p1", "guide.pdf", "The Guide", None, "Alpha sentence one.", 0, 19),
             Citation(2, "p3", "notes.txt", "Notes", None, "Unrelated text.", 0, 15),
             Citation(3, "p2", "guide.pdf", "The Guide", None, "Gamma sentence three.", 39, 60)]
    answer = Answer("q?", "Alpha [1]. Unrelated [2]. Gamma [3].", cites, [first, second, other], False, "extractive")
    assert [c.page for c in answer.citations] == [12, None, 13]  # filled in from the passages
    made = cards(answer)
    assert [c.numbers for c in made] == [[1, 3], [2]]
    assert made[0].text == doc[:61] and made[0].pages == [12, 13]
    assert card_of(answer) == {1: 1, 3: 1, 2: 2}
    links = {"guide.pdf": "/source/guide.pdf", "notes.txt": None}
    panel = render.sources_html([(2, answer)], links.get)
    assert panel.count('class="source"') == 2 and 'id="cite-2-1"' in panel and 'id="cite-2-3"' not in panel
    assert "[1][3] The Guide · pp. 12\u201313" in panel
    assert "<mark>Alpha sentence one.</mark>" in panel and "<mark>Gamma sentence three.</mark>" in panel
    assert panel.count("Beta sentence two.") == 1  # the shared sentence is shown once
    assert '<a href="/source/guide.pdf#page=12" target="_blank"' in panel and ">open p. 12</a>" in panel
    assert '<details class="scores"><summary>scores</summary>' in panel and "similarity 0.61" in panel
    assert "notes.txt" in panel and panel.count("<a ") == 1  # no URL and no file: no link
    body = render.answer_html(answer, 2)
    assert body.count('href="#cite-2-1"') == 2 and "#cite-2-2" in body  # [3] opens the card of [1]


def test_a_document_with_a_url_links_to_it_and_a_pdf_url_opens_the_page() -> None:
    web = _passage("w", 0, "Web text.", ((0, 3),), document="web.pdf")
    cite = Citation(1, "w", "web.pdf", "Web", "https://example.org/manual.pdf", "Web text.", 0, 9)
    answer = Answer("q?", "Web [1].", [cite], [web], False, "extractive")
    panel = render.sources_html([(1, answer)], lambda _: "/source/web.pdf")
    assert '<a href="https://example.org/manual.pdf#page=3" target="_blank"' in panel and ">original</a>" in panel


# --- example questions ------------------------------------------------------------------------------------------

def test_example_questions_come_from_the_largest_documents_headings() -> None:
    docs = [DocumentInfo("docx/test-file.docx", "Lorem ipsum dolor sit amet, consectetur adipiscing elit.", None, 1),
            DocumentInfo("pdf/guide.pdf", "ReportLab PDF Generation User Guide", None, 400),
            DocumentInfo("html/library/bisect.html", "bisect — Array bisection algorithm", None, 30),
            DocumentInfo("html/library/json.html", "json — JSON encoder and decoder", None, 60),
            DocumentInfo("text/notes.txt", "notes.txt", None, 90)]
    assert from_headings(docs, 3) == ["Tell me about ReportLab PDF Generation User Guide.", "What is json?",
                                      "What is bisect?"]
    assert topic_of("3.1.2 Quoting") == "Quoting" and question_for("Sea otters") == "What are Sea otters?"
    assert question_for("Debian Policy Manual") == "What is the Debian Policy Manual?"


def test_example_questions_of_a_real_index(tmp_path: Path, embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in (PDF, "python-library-bisect.html", "python-docx-blk-paras-and-tables.docx"):
        shutil.copy(FIXTURES / name, corpus / name)
    index = rag.open_index(tmp_path / "index", embedder=embedder, corpus=corpus)
    index.ingest(progress=False)
    from rag.web.examples import example_questions

    picked = example_questions(index)
    assert picked[:2] == ["Tell me about ReportLab PDF Generation User Guide.", "What is bisect?"]
    assert not any("Lorem" in q for q in picked)


def test_with_a_server_key_a_file_needs_the_key_or_its_link_token(keyed_app) -> None:
    from rag.web.files import link_token

    url, key = keyed_app
    document = "000_7582f00bdfc6e56e.txt"
    token = link_token(rag.Settings(server_key=key), document)
    assert httpx.get(f"{url}/source/{document}", timeout=30).status_code == 401
    assert httpx.get(f"{url}/source/{document}?token={'0' * 32}", timeout=30).status_code == 401
    assert httpx.get(f"{url}/source/{document}?token={token}", timeout=30).status_code == 200
    with_key = httpx.get(f"{url}/source/{document}", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert with_key.status_code == 200 and "Makei" in with_key.text
