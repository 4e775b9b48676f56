"""The REST API, served beside the chat by the same process and the same Index (one engine).

    POST /api/ask        {"question", "history"?, "k"?, "mode"?, "model"?}  -> the JSON of `rag ask --json`
    POST /api/search     {"query", "k"?, "mode"?, "documents"?}             -> [passage, ...]
    POST /api/ingest     {"path"?}                                          -> the JSON of `rag ingest --json`
    GET  /api/documents                                                     -> [{"id", "title", "url", "chunks"}]
    DELETE /api/documents/{id}                                              -> {"removed": true}

Errors are JSON `{"error": "one line"}` with 400 (bad input), 404, 422 (schema) or 500. The schema is at /docs.
Endpoints are plain functions, so FastAPI runs them in its thread pool: requests are answered concurrently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from rag import ConfigError, DocumentError, EmptyQuestionError, Index, RagError


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class AskRequest(BaseModel):
    question: str = Field(description="The question.")
    history: list[Turn] = Field(default_factory=list, description="Earlier turns, oldest first.")
    k: int | None = Field(None, ge=1, le=50, description="Passages to retrieve.")
    mode: Literal["hybrid", "dense", "lexical"] | None = None
    model: str | None = Field(None, description="A litellm model string for this request; unset uses the server's.")


class SearchRequest(BaseModel):
    query: str
    k: int | None = Field(None, ge=1, le=100)
    mode: Literal["hybrid", "dense", "lexical"] | None = None
    documents: list[str] | None = Field(None, description="Only search these document ids.")


class IngestRequest(BaseModel):
    path: str | None = Field(None, description="Folder, file or corpus.jsonl on the server; default: the corpus.")


def router(index: Index) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["rag"])

    @api.post("/ask", summary="Answer a question with citations")
    def ask(body: AskRequest) -> dict:
        history = [t.model_dump() for t in body.history]
        return index.ask(body.question, history=history, k=body.k, mode=body.mode, model=body.model).to_json()

    @api.post("/search", summary="The best passages for a query")
    def search(body: SearchRequest) -> list[dict]:
        return [p.to_json() for p in index.search(body.query, k=body.k, mode=body.mode, documents=body.documents)]

    @api.post("/ingest", summary="Ingest a corpus incrementally")
    def ingest(body: IngestRequest) -> dict:
        return index.ingest(Path(body.path) if body.path else None, progress=False).to_json()

    @api.get("/documents", summary="The documents in the index")
    def documents() -> list[dict]:
        return [d.to_json() for d in index.documents()]

    @api.delete("/documents/{document_id:path}", summary="Remove a document from the index")
    def remove(document_id: str) -> JSONResponse:
        if index.remove(document_id):
            return JSONResponse({"removed": True})
        return JSONResponse({"error": f"no document {document_id!r} in the index"}, status_code=404)

    return api


def install(app: FastAPI, index: Index) -> None:
    """Add the API routes and turn library errors into one-line JSON errors."""
    app.include_router(router(index))

    @app.exception_handler(RagError)
    async def rag_error(_: Request, exc: RagError) -> JSONResponse:
        bad_input = isinstance(exc, (EmptyQuestionError, ConfigError, DocumentError))
        return JSONResponse({"error": str(exc)}, status_code=400 if bad_input else 500)
