"""In Chromium: a PDF citation shows its page and its link opens the PDF served by the app at that page; a
document without a URL links to its own file; one with a URL links to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from app_server import running_app
from test_app import CHROMIUM, CHROMIUM_ARGS
from test_sources import PDF, RML_QUESTION, make_corpus

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed")]


def _ask(page, question: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    answers = page.locator("#chat a.cite").count()
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    expect(page.locator("#chat a.cite")).not_to_have_count(answers, timeout=90_000)


def test_pdf_citation_opens_the_page_and_a_file_without_url_opens_itself(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    corpus = make_corpus(tmp_path / "corpus")
    with running_app(tmp_path / "index", corpus=corpus) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context()
        served: list[tuple[str, int, str]] = []
        context.on("response", lambda r: served.append((r.url, r.status, r.headers.get("content-type", ""))))
        page = context.new_page()
        page.goto(url, wait_until="load")
        expect(page.locator("#question textarea")).to_be_visible(timeout=60_000)

        _ask(page, RML_QUESTION)
        card = page.locator("#sources .source").first
        expect(card.locator("summary").first).to_contain_text("ReportLab PDF Generation User Guide · p. 4")
        expect(card.locator("mark").first).to_contain_text("Report Markup")
        link = card.locator('a[href^="/source/"]')
        expect(link).to_have_attribute("href", f"/source/{PDF}#page=4")
        expect(link).to_have_text("open p. 4")
        with context.expect_page() as opened:
            link.click()
        pdf_tab = opened.value
        pdf_tab.wait_for_load_state("load")
        assert pdf_tab.url == f"{url}/source/{PDF}#page=4"
        assert (f"{url}/source/{PDF}", 200, "application/pdf") in served
        pdf_tab.close()

        _ask(page, "When is the zorblatt lantern lit?")
        card = page.locator("#sources .source").first
        expect(card).to_contain_text("notes.txt")
        link = card.locator('a[href^="/source/"]')
        expect(link).to_have_attribute("href", "/source/notes.txt")
        expect(link).to_have_text("open the file")
        with context.expect_page() as opened:
            link.click()
        text_tab = opened.value
        text_tab.wait_for_load_state("load")
        expect(text_tab.locator("body")).to_contain_text("The zorblatt lantern is lit at dusk")
        text_tab.close()

        _ask(page, "How many times does the quindle bell ring?")
        card = page.locator("#sources .source").first
        expect(card).to_contain_text("linked.txt")
        expect(card.locator('a[href="https://example.org/quindle"]')).to_have_text("original")
        expect(card.locator('a[href^="/source/"]')).to_have_count(0)
        browser.close()
