"""The MCP tools, driven by the `mcp` SDK's own client: `rag mcp` over stdio, and /mcp over HTTP on the app."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from app_server import ROOT

QUESTION = "Who is Belarus's foreign minister?"
SEED_DOCUMENT = "000_7582f00bdfc6e56e.txt"


def stdio_server(index_dir: Path) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return StdioServerParameters(
        command=sys.executable, cwd=str(ROOT), env={**env, "HF_HUB_OFFLINE": "1"},
        args=["-m", "rag.cli", "mcp", "--index", str(index_dir), "--corpus", str(ROOT / "seeds")],
    )


async def exercise(client: Client) -> dict[str, Any]:
    """Everything a desktop assistant does, recorded for the assertions."""
    seen: dict[str, Any] = {}
    tools = (await client.list_tools()).tools
    seen["tools"] = {t.name: t for t in tools}
    seen["search"] = await client.call_tool("search", {"query": QUESTION, "k": 2})
    seen["ask"] = await client.call_tool("ask", {"question": QUESTION})
    seen["k=0"] = await client.call_tool("search", {"query": QUESTION, "k": 0})
    seen["k=many"] = await client.call_tool("search", {"query": QUESTION, "k": "many"})
    seen["empty"] = await client.call_tool("ask", {"question": "   "})
    seen["missing"] = await client.call_tool("ask", {})
    seen["too long"] = await client.call_tool("ask", {"question": "Who is Makei? " * 400})  # 5,600 characters
    seen["too long query"] = await client.call_tool("search", {"query": "Makei " * 1000})
    seen["documents"] = await client.call_tool("list_documents", {})  # still serving after the bad calls
    return seen


def check(seen: dict[str, Any]) -> None:
    assert set(seen["tools"]) == {"search", "ask", "list_documents"}
    assert set(seen["tools"]["search"].input_schema["properties"]) == {"query", "k"}
    assert seen["tools"]["ask"].input_schema["required"] == ["question"]

    search = seen["search"]
    assert not search.is_error
    passages = search.structured_content["passages"]
    assert len(passages) == 2 and "Vladimir Makei" in passages[0]["text"]
    first = passages[0]
    assert first["id"] and first["document"] == SEED_DOCUMENT and first["title"] and first["url"].startswith("https")
    assert first["end"] - first["start"] == len(first["text"])
    assert json.loads(search.content[0].text) == search.structured_content  # the same, for text-only clients

    ask = seen["ask"]
    assert not ask.is_error and ask.structured_content["refused"] is False
    assert "Makei" in ask.structured_content["answer"] and "[1]" in ask.structured_content["answer"]
    citation = ask.structured_content["citations"][0]
    assert citation["n"] == 1 and citation["document"] == SEED_DOCUMENT and "Vladimir Makei" in citation["quote"]
    assert citation["url"].startswith("https://www.themoscowtimes.com/") and citation["end"] > citation["start"]

    for name, needle in (("k=0", "greater than or equal to 1"), ("k=many", "valid integer"),
                         ("empty", "The question is empty"), ("missing", "question"),
                         ("too long", "the question is too long"), ("too long query", "the query is too long")):
        result = seen[name]
        assert result.is_error, name
        assert needle in result.content[0].text, (name, result.content[0].text)

    documents = seen["documents"]
    assert not documents.is_error
    assert [d["id"] for d in documents.structured_content["documents"]] == [SEED_DOCUMENT]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mcp") / "index"


def test_rag_mcp_over_stdio(index_dir: Path) -> None:
    async def main() -> dict[str, Any]:
        with anyio.fail_after(240):  # "legacy": the initialize handshake, as desktop assistants do it
            async with Client(stdio_server(index_dir), mode="legacy") as client:
                return await exercise(client)

    check(anyio.run(main))


def test_stdout_carries_only_the_protocol(index_dir: Path) -> None:
    """Every line `rag mcp` writes on stdout is a JSON-RPC message; what it has to say goes to stderr."""
    params = stdio_server(index_dir)
    process = subprocess.Popen([params.command, *params.args], cwd=params.cwd, env=params.env, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdin and process.stdout and process.stderr

    def send(message: dict[str, Any]) -> None:
        process.stdin.write(json.dumps({"jsonrpc": "2.0", **message}) + "\n")
        process.stdin.flush()

    try:
        send({"id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}})
        send({"method": "notifications/initialized"})
        send({"id": 2, "method": "tools/call", "params": {"name": "ask", "arguments": {"question": QUESTION}}})
        lines = [process.stdout.readline() for _ in range(2)]
    finally:
        process.stdin.close()
        process.wait(timeout=30)
    messages = [json.loads(line) for line in lines]
    assert [m["id"] for m in messages] == [1, 2] and all(m["jsonrpc"] == "2.0" for m in messages)
    assert messages[0]["result"]["serverInfo"]["name"] == "rag"
    assert "Makei" in messages[1]["result"]["structuredContent"]["answer"]
    assert process.stdout.read() == ""
    assert "passages from" in process.stderr.read()


def test_the_same_tools_over_http_on_the_app(keyed_app: tuple[str, str]) -> None:
    url, key = keyed_app

    async def main() -> dict[str, Any]:
        with anyio.fail_after(120):
            async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
                async with Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client:
                    return await exercise(client)

    check(anyio.run(main))


def test_the_readme_configures_a_desktop_assistant_with_real_flags() -> None:
    readme = (ROOT / "README.md").read_text()
    config = json.loads(readme.split("<!-- mcp-config -->")[1].split("```json")[1].split("```")[0])
    server = config["mcpServers"]["rag"]
    assert server["command"].endswith("/.venv/bin/rag") and server["args"][0] == "mcp"
    usage = subprocess.run([sys.executable, "-m", "rag.cli", "mcp", "--help"], capture_output=True, text=True,
                           cwd=ROOT, timeout=60).stdout
    flags = [a for a in server["args"] if a.startswith("--")]
    assert flags and all(flag in usage for flag in flags)
