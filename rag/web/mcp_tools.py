"""The corpus as Model Context Protocol tools, for desktop assistants and IDE agents (the official `mcp` SDK).

    search(query, k=5)   the best passages: id, document, title, url, start, end, score, text
    ask(question)        the answer with [n] markers, its citations (each as in `rag ask --json`), refused, label,
                         notice
    list_documents()     the documents: id, title, url, chunks

`run_stdio(index)` serves them on stdin/stdout (`rag mcp`, launched by the assistant); `install(app, index)` serves
the same tools over streamable HTTP at /mcp on the web server, on the same Index. A bad argument (an empty query,
k out of range, a wrong type) or a library error comes back as a tool error, never a crash. Logging goes to stderr:
on stdio, stdout is the protocol, and it is kept clean while the corpus is ingested too.

Not handled: MCP resources and prompts, sessions (the HTTP endpoint is stateless), OAuth (the HTTP endpoint is
behind the server's key, see rag.web.auth).
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, redirect_stdout
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI
from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field
from typing_extensions import TypedDict

from rag import Index, RagError
from rag.web import guard

HIT_FIELDS = ("id", "document", "title", "url", "start", "end", "score", "text")
INSTRUCTIONS = ("Search and ask a corpus of documents. `ask` answers with [n] markers whose citations quote the exact "
                "supporting sentence (document, title, URL, character offsets); `search` returns raw passages.")


class Hit(TypedDict):
    id: str
    document: str
    title: str
    url: str | None
    start: int
    end: int
    score: float
    text: str


class Found(TypedDict):
    passages: list[Hit]


class Answered(TypedDict):
    answer: str
    refused: bool
    label: str
    notice: str | None
    citations: list[dict[str, Any]]


class Entry(TypedDict):
    id: str
    title: str
    url: str | None
    chunks: int


class Catalog(TypedDict):
    documents: list[Entry]


def build(index: Index) -> MCPServer:
    server = MCPServer("rag", instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool()
    def search(query: Annotated[str, Field(description="What to look for.")],
               k: Annotated[int, Field(ge=1, le=50, description="How many passages.")] = 5) -> Found:
        """The passages of the corpus that best match the query, best first, with their document, title, URL and
        character offsets in the document."""
        try:
            guard.check_question(index.settings, query, "query")
            return {"passages": [p.to_json(HIT_FIELDS) for p in index.search(query, k=k)]}  # type: ignore[misc]
        except (RagError, guard.Refused) as exc:
            raise ToolError(str(exc)) from exc

    @server.tool()
    def ask(question: Annotated[str, Field(description="A question about the documents.")]) -> Answered:
        """Answer a question from the documents. The answer carries [n] markers; citation n gives the document,
        title, URL, the quoted sentence and its character offsets. `refused` is true when the documents do not
        hold the answer."""
        try:
            guard.check_question(index.settings, question)
            data = index.ask(question).to_json()
        except (RagError, guard.Refused) as exc:
            raise ToolError(str(exc)) from exc
        return {"answer": data["answer"], "refused": data["refused"], "label": data["label"],
                "notice": data["notice"], "citations": data["citations"]}

    @server.tool()
    def list_documents() -> Catalog:
        """The documents in the corpus: id, title, URL and number of passages."""
        return {"documents": [d.to_json() for d in index.documents()]}  # type: ignore[misc]

    return server


def install(app: FastAPI, index: Index) -> None:
    """Serve the tools at /mcp (streamable HTTP, stateless, JSON responses) on `app`."""
    server = build(index)
    http = server.streamable_http_app(streamable_http_path="/mcp", stateless_http=True, json_response=True,
                                      host=index.settings.host)
    app.router.routes.extend(http.routes)  # on the app itself, so they come before the chat mounted at /
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[Any]:
        async with server.session_manager.run(), outer(application) as state:
            yield state

    app.router.lifespan_context = lifespan


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send whatever is printed (by Python or a library below it) to stderr: on stdio, stdout is the protocol."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def run_stdio(index: Index, corpus: Path | None = None) -> None:
    """Ingest the corpus (incrementally), then serve the tools on stdin/stdout until the client hangs up."""
    target = corpus or Path(index.settings.corpus)
    with stdout_to_stderr():
        report = index.ingest(target, progress=False)
        for failure in report.failed:
            print(f"skipped {failure.path}: {failure.error}", file=sys.stderr)
        print(f"rag mcp: {report.chunks} passages from {target} ready; serving on stdio", file=sys.stderr)
        server = build(index)
    server.run("stdio")
