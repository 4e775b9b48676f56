"""Hostile input against the running server (`rag serve` on 127.0.0.1): the chat's raw upload event, the Host
header, who may spend the model, what /api/ingest may read, /api/upload, and every size limit. Each refusal is
one line of JSON (or Gradio's error event) and nothing is ingested or sent to the model."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import httpx
import pytest

from app_server import ROOT, running_app
from fakellm import FakeLLM

SECRET_WORD = "Quuxvelt"
KEY = "sk-operator-secret-7731"


@pytest.fixture(scope="module")
def fake():
    with FakeLLM() as server:
        yield server


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder the server can read but must never hand out."""
    folder = tmp_path_factory.mktemp("outside")
    (folder / "secret.md").write_text(f"# Secret\n\nThe {SECRET_WORD} vault code is 4417.")
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, fake: FakeLLM, outside: Path):
    base = tmp_path_factory.mktemp("websec")
    corpus = base / "corpus"
    shutil.copytree(ROOT / "seeds", corpus)
    (corpus / "escape").symlink_to(outside, target_is_directory=True)  # a symlink out of the corpus
    index_dir = base / "index"
    env = {"RAG_API_BASE": fake.base_url, "RAG_API_KEY": KEY, "RAG_LLM_TIMEOUT": "10", "RAG_LLM_RETRIES": "0",
           "RAG_ALLOWED_MODELS": "openai/allowed", "RAG_MAX_QUESTION_CHARS": "2000"}
    with running_app(index_dir, env, corpus=corpus) as url:
        yield url, index_dir, corpus


def documents(url: str) -> set[str]:
    return {d["id"] for d in httpx.get(f"{url}/api/documents").json()}


def gradio_call(url: str, name: str, data: list) -> tuple[str, object]:
    """A raw Gradio event (what any client can send): its last SSE event and that event's data."""
    event_id = httpx.post(f"{url}/gradio_api/call/{name}", json={"data": data}).json()["event_id"]
    event, payload = "", None
    with httpx.stream("GET", f"{url}/gradio_api/call/{name}/{event_id}", timeout=60) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                payload = json.loads(line.split(":", 1)[1])
                if event in ("complete", "error"):
                    break
    return event, payload


def file_data(path: str) -> dict:
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


# ---- the chat's upload event (issue 18) ------------------------------------------------------------------------


def test_the_raw_upload_event_cannot_name_a_server_file(server, outside: Path) -> None:
    url, index_dir, _ = server
    before = documents(url)
    for path in (str(outside / "secret.md"), str(ROOT / "README.md"), "/etc/hostname"):
        event, payload = gradio_call(url, "on_upload", [[file_data(path)]])
        assert event == "error", payload
        assert "not uploaded by a user" in json.dumps(payload) or "not uploaded to this server" in json.dumps(payload)
    # a symlink planted inside the upload cache, pointing out of it
    cache = index_dir / ".gradio-cache"
    assert cache.is_dir() and (cache.stat().st_mode & 0o777) == 0o700
    planted = cache / "planted"
    planted.mkdir(exist_ok=True)
    (planted / "link.md").symlink_to(outside / "secret.md")
    event, _ = gradio_call(url, "on_upload", [[file_data(str(planted / "link.md"))]])
    assert event == "error"
    # a regular file in the cache that the upload route never wrote is refused by the handler's own check
    (planted / "stray.md").write_text(f"# Stray\n\nThe {SECRET_WORD} stray note.")
    event, payload = gradio_call(url, "on_upload", [[file_data(str(planted / "stray.md"))]])
    assert "stray.md: this file was not uploaded to this server" in json.dumps(payload)
    assert documents(url) == before
    hits = httpx.post(f"{url}/api/search", json={"query": f"{SECRET_WORD} vault code", "k": 5}).json()
    assert all(SECRET_WORD not in h["text"] for h in hits)


def test_a_real_upload_through_gradio_still_works(server) -> None:
    url, _, _ = server
    files = [("files", ("heron.md", b"# Herons\n\nGrey herons nest in heronries.", "text/markdown"))]
    paths = httpx.post(f"{url}/gradio_api/upload", files=files).json()
    event, payload = gradio_call(url, "on_upload", [[file_data(paths[0])]])
    assert event == "complete", payload
    assert "uploads/heron.md: ingested" in json.dumps(payload)
    assert "uploads/heron.md" in documents(url)


# ---- the Host header (issue 18) ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/api/documents", "/gradio_api/info", "/config", "/docs"])
def test_a_foreign_host_header_gets_400(server, path: str) -> None:
    url, _, _ = server
    port = url.rsplit(":", 1)[1]
    assert httpx.get(url + path, headers={"Host": "evil.example"}).status_code == 400
    assert httpx.get(url + path, headers={"Host": f"evil.example:{port}"}).status_code == 400
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        assert httpx.get(url + path, headers={"Host": host}).status_code == 200


def test_a_foreign_host_cannot_upload_or_call_events(server) -> None:
    url, _, _ = server
    evil = {"Host": "evil.example"}
    files = [("files", ("x.md", b"# X\n\nx", "text/markdown"))]
    assert httpx.post(f"{url}/gradio_api/upload", files=files, headers=evil).status_code == 400
    assert httpx.post(f"{url}/gradio_api/call/refresh", json={"data": []}, headers=evil).status_code == 400
    assert httpx.post(f"{url}/api/ask", json={"question": "hi"}, headers=evil).status_code == 400


def test_pages_carry_a_content_security_policy(server) -> None:
    url, _, _ = server
    policy = httpx.get(url).headers["content-security-policy"]
    assert "default-src 'self'" in policy and "img-src 'self' data: blob:" in policy
    assert "frame-ancestors 'none'" in policy and "unsafe-eval" not in policy


# ---- who may spend the model (issue 18) -------------------------------------------------------------------------


def test_a_model_off_the_allow_list_gets_400_and_reaches_no_llm(server, fake: FakeLLM) -> None:
    url, _, _ = server
    sent = len(fake.requests)
    refused = httpx.post(f"{url}/api/ask", json={"question": "Who is Belarus's foreign minister?",
                                                 "model": "openai/gpt-4o"}, timeout=60)
    assert refused.status_code == 400
    assert "openai/gpt-4o" in refused.json()["error"] and "RAG_ALLOWED_MODELS" in refused.json()["error"]
    event, _ = gradio_call(url, "respond", ["Who is Belarus's foreign minister?", "openai/gpt-4o", 5, "hybrid"])
    assert event == "error"
    assert len(fake.requests) == sent  # the scripted model saw nothing

    fake.reply("Vladimir Makei is Belarus's foreign minister [1].")
    allowed = httpx.post(f"{url}/api/ask", json={"question": "Who is Belarus's foreign minister?",
                                                 "model": "openai/allowed"}, timeout=60).json()
    assert allowed["mode"] == "llm" and allowed["model"] == "openai/allowed"
    assert len(fake.requests) == sent + 1


def test_notices_name_the_model_never_the_api_base_or_the_key(server, fake: FakeLLM) -> None:
    url, _, _ = server
    fake.fail(500, f"upstream {fake.base_url} rejected key {KEY}")
    answer = httpx.post(f"{url}/api/ask", json={"question": "Who is Belarus's foreign minister?",
                                                "model": "openai/allowed"}, timeout=60).json()
    host = fake.base_url.split("//")[1].split("/")[0]
    assert answer["mode"] == "extractive" and "openai/allowed" in answer["notice"]
    assert host not in json.dumps(answer) and KEY not in json.dumps(answer)


# ---- /api/ingest is confined (issue 11) -------------------------------------------------------------------------


def test_ingest_reads_only_the_corpus_and_the_uploads(server, outside: Path) -> None:
    url, _, corpus = server
    before = documents(url)
    for path in ["/etc", "../../", str(outside), str(outside / "secret.md"), str(corpus / "escape"),
                 str(corpus / "escape" / "secret.md"), str(corpus / ".." / ".." / ".."), "~", "/etc\x00"]:
        response = httpx.post(f"{url}/api/ingest", json={"path": path}, timeout=60)
        assert response.status_code == 403, path
        error = response.json()["error"]
        assert "\n" not in error and "corpus folder" in error and str(outside) not in error
    assert documents(url) == before
    assert httpx.post(f"{url}/api/ingest", json={"path": str(corpus)}, timeout=120).status_code == 200
    assert httpx.post(f"{url}/api/ingest", json={}, timeout=120).status_code == 200


# ---- POST /api/upload (issue 11) ---------------------------------------------------------------------------------


def test_rest_upload_checks_each_file(server) -> None:
    url, index_dir, _ = server
    files = [
        ("files", ("../../../tmp/owl<script>.md", b"# Owls\n\nBarn owls swallow their prey whole.", "text/markdown")),
        ("files", ("tool.exe", b"MZ\x00\x00", "application/octet-stream")),
        ("files", ("huge.txt", b"x " * 11_000_000, "text/plain")),
    ]
    result = httpx.post(f"{url}/api/upload", files=files, timeout=120).json()
    assert result["ingested"] == ["uploads/owl_script.md"]
    assert {r["name"]: r["error"].split(" (")[0] for r in result["rejected"]} == {
        "tool.exe": "not a supported type", "huge.txt": "too large"}
    assert "owl_script.md" in os.listdir(index_dir / "uploads") and "huge.txt" not in os.listdir(index_dir / "uploads")
    assert not (ROOT.parent / "tmp" / "owl<script>.md").exists()


# ---- every input bounded (issue 11) --------------------------------------------------------------------------------


def test_oversized_inputs_get_one_clear_error(server) -> None:
    url, _, _ = server
    cases = [
        ("/api/ask", {"question": "why " * 600}, 400, "question is too long"),
        ("/api/search", {"query": "q" * 2001}, 400, "query is too long"),
        ("/api/ask", {"question": "And its president?",
                      "history": [{"role": "user", "content": "x" * 9000}] * 4}, 400, "history is too long"),
        ("/api/search", {"query": "minister", "documents": [f"d{i}" for i in range(5000)]}, 400, "too many ids"),
        ("/api/search", {"query": "minister", "documents": [f"doc-{i:06d}" for i in range(100_000)]}, 413,
         "too large"),
        ("/api/ask", {"question": "q" * 10_000_000}, 413, "too large"),
    ]
    for path, body, status, words in cases:
        response = httpx.post(url + path, json=body, timeout=60)
        assert response.status_code == status, (path, response.text[:200])
        error = response.json()["error"]
        assert words in error and "\n" not in error and len(error) < 300
    chunked = httpx.post(f"{url}/api/ask", content=(b"x" * 65536 for _ in range(40)),
                         headers={"content-type": "application/json"}, timeout=60)
    assert chunked.status_code == 413
    invalid = httpx.post(f"{url}/api/ask", json={"k": 3})
    assert invalid.status_code == 422 and invalid.json()["error"].startswith("invalid request")
    event, payload = gradio_call(url, "respond", ["why " * 600, "(offline: extract sentences, no LLM)", 5, "hybrid"])
    assert event == "error" and "question is too long" in json.dumps(payload)
