"""The server's key (RAG_SERVER_KEY): exposed only with a key, and with a key every door asks for it
(REST /api, OpenAI-compatible /v1, MCP /mcp, and the chat's login in a real browser)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import rag
from rag.web.auth import check_exposure, is_loopback

from app_server import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
QUESTION = "Who is Belarus's foreign minister?"


def test_only_loopback_goes_without_a_key() -> None:
    for host in ("127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"):
        assert is_loopback(host), host
        check_exposure(rag.Settings(host=host))
    for host in ("0.0.0.0", "::", "192.168.1.20", "10.0.0.5", "myserver.example", ""):
        assert not is_loopback(host), host
        with pytest.raises(rag.ConfigError, match="RAG_SERVER_KEY"):
            check_exposure(rag.Settings(host=host))
        check_exposure(rag.Settings(host=host, server_key="s3cret"))
    assert rag.Settings(server_key="  ").server_key is None  # a blank key is no key


def test_the_key_never_leaks_into_hashes_or_dumps() -> None:
    keyed = rag.Settings(server_key="s3cret")
    assert keyed.answer_hash() == rag.Settings().answer_hash()
    assert "s3cret" not in keyed.model_dump_json() and "s3cret" not in repr(keyed)


def test_an_exposed_server_without_a_key_refuses_to_start_with_one_line(tmp_path: Path) -> None:
    # 192.0.2.1 is a documentation address, not on this machine: even a broken check could not listen there
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    done = subprocess.run(
        [sys.executable, "-m", "rag.cli", "serve", "--index", str(tmp_path / "index"), "--host", "192.0.2.1"],
        cwd=ROOT, env={**env, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: refusing to listen on 192.0.2.1 without a key: set RAG_SERVER_KEY (clients send it as "
        "'Authorization: Bearer KEY', the chat asks for it), or bind to 127.0.0.1"]
    assert done.stdout == ""


def test_every_api_asks_for_the_key(keyed_app: tuple[str, str]) -> None:
    url, key = keyed_app
    right, wrong = {"Authorization": f"Bearer {key}"}, {"Authorization": "Bearer guess"}
    with httpx.Client(base_url=url, timeout=60) as client:
        for method, path, body in (("GET", "/api/documents", None), ("POST", "/api/ask", {"question": QUESTION}),
                                   ("POST", "/api/search", {"query": QUESTION}), ("POST", "/api/ingest", {})):
            missing = client.request(method, path, json=body)
            assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
            assert missing.json() == {"error": "missing key: send the server's RAG_SERVER_KEY as "
                                               "'Authorization: Bearer KEY'"}
            refused = client.request(method, path, json=body, headers=wrong)
            assert refused.status_code == 401 and refused.json()["error"].startswith("wrong key")
        assert client.get("/api/documents", headers={"Authorization": key}).status_code == 401  # not as Bearer
        assert client.get("/api/documents", headers=right).json()[0]["id"] == "000_7582f00bdfc6e56e.txt"

        for path in ("/v1/models", "/v1/chat/completions"):
            response = client.post(path, json={"messages": [{"role": "user", "content": QUESTION}]}) \
                if path.endswith("completions") else client.get(path)
            assert response.status_code == 401
            assert response.json() == {"error": {
                "message": "missing key: send the server's RAG_SERVER_KEY as 'Authorization: Bearer KEY'",
                "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}
        assert client.get("/v1/models", headers=right).status_code == 200

        mcp = client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                          headers={"Accept": "application/json, text/event-stream"})
        assert mcp.status_code == 401

        # the chat's own API is behind its login, and the docs page offers the key
        assert client.get("/gradio_api/info").status_code == 401
        schema = client.get("/openapi.json").json()
        assert schema["components"]["securitySchemes"]["serverKey"] == {
            "type": "http", "scheme": "bearer", "description": "The server's RAG_SERVER_KEY."}


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("CI"), reason="needs Debian's chromium")
def test_the_chat_asks_for_the_key_in_a_real_browser(keyed_app: tuple[str, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, key = keyed_app
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.goto(url, wait_until="load")
        password = page.get_by_label("password")
        expect(password).to_be_visible(timeout=60_000)
        expect(page.locator("body")).to_contain_text("RAG_SERVER_KEY")
        expect(page.locator("#question textarea")).to_have_count(0)

        page.get_by_label("username").fill("anyone")
        password.fill("a guess")
        page.get_by_role("button", name="Login").click()
        expect(page.locator("body")).to_contain_text("Incorrect", timeout=15_000)
        expect(page.locator("#question textarea")).to_have_count(0)

        page.get_by_label("username").fill("anyone")  # a failed login clears both fields
        password.fill(key)
        page.get_by_role("button", name="Login").click()
        question = page.locator("#question textarea")
        expect(question).to_be_visible(timeout=60_000)
        question.fill(QUESTION)
        page.locator("#ask").click()
        expect(page.locator("#chat a.cite").first).to_be_visible(timeout=60_000)
        expect(page.locator("#chat")).to_contain_text("Makei")
        browser.close()
