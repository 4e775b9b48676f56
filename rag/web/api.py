"""The REST API, served beside the chat by the same process and the same Index (one engine).

    POST /api/ask        {"question", "history"?, "k"?, "mode"?, "model"?}  -> the JSON of `rag ask --json`
    POST /api/search     {"query", "k"?, "mode"?, "documents"?}             -> [passage, ...]
    POST /api/ingest     {"path"?}  (inside the corpus or uploads folder)     -> the JSON of `rag ingest --json`
    POST /api/upload     multipart `files`                                  -> {"ingested": [id], "rejected": [...]}
    GET  /api/documents                                                     -> [{"id", "title", "url", "chunks"}]
    DELETE /api/documents/{id}                                              -> {"removed": true}

Errors are JSON `{"error": "one line"}` with 400 (bad input, a model off the allow-list, a limit passed), 403 (a
path outside the corpus and uploads folders), 404, 413 (a body too large), 422 (schema) or 500. The schema is
at /docs. Endpoints are plain functions, so FastAPI runs them in its thread pool: requests are answered
concurrently. The checks themselves live in rag.web.guard, the HTTP guards in rag.web.middleware.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, FastAPI, File, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from rag import ConfigError, DocumentError, EmptyQuestionError, Index, RagError
from rag.web import guard
from rag.web.uploads import add_uploads


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class AskRequest(BaseModel):
    question: str = Field(description="The question.")
    history: list[Turn] = Field(default_factory=list, description="Earlier turns, oldest first.")
    k: int | None = Field(None, ge=1, le=50, description="Passages to retrieve.")
    mode: Literal["hybrid", "dense", "lexical"] | None = None
    model: str | None = Field(None, description="The server's model (RAG_MODEL) or one of RAG_ALLOWED_MODELS; "
                              "unset uses the server's.")


class SearchRequest(BaseModel):
    query: str
    k: int | None = Field(None, ge=1, le=100)
    mode: Literal["hybrid", "dense", "lexical"] | None = None
    documents: list[str] | None = Field(None, description="Only search these document ids.")


class IngestRequest(BaseModel):
    path: str | None = Field(None, description="A folder or file inside the server's corpus folder or uploads "
                             "folder; default: the corpus. Send new files with POST /api/upload.")


def router(index: Index) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["rag"])

    s = index.settings

    @api.post("/ask", summary="Answer a question with citations")
    def ask(body: AskRequest) -> dict:
        guard.check_question(s, body.question)
        guard.check_history(s, [t.content for t in body.history])
        model = guard.check_model(s, body.model)
        history = [t.model_dump() for t in body.history]
        return index.ask(body.question, history=history, k=body.k, mode=body.mode, model=model).to_json()

    @api.post("/search", summary="The best passages for a query")
    def search(body: SearchRequest) -> list[dict]:
        guard.check_question(s, body.query, "query")
        guard.check_ids(s, body.documents)
        return [p.to_json() for p in index.search(body.query, k=body.k, mode=body.mode, documents=body.documents)]

    @api.post("/ingest", summary="Ingest the corpus (or a part of it, or the uploads) incrementally")
    def ingest(body: IngestRequest) -> dict:
        path, prefix = guard.confined(s, body.path)
        return index.ingest(path, progress=False, id_prefix=prefix).to_json()

    @api.post("/upload", summary="Upload files and ingest them at once (ids uploads/<name>)")
    def upload(files: list[UploadFile] = File(description="The documents (.txt .md .html .htm .pdf .docx).")
               ) -> dict:
        with tempfile.TemporaryDirectory(prefix="rag-upload-") as folder:
            paths, names = [], []
            for n, item in enumerate(files[: s.max_upload_files + 1]):
                path = Path(folder) / str(n)
                with path.open("wb") as out:
                    _copy_capped(item.file, out, int(s.max_file_mb * 1_000_000) + 1)
                paths.append(path)
                names.append(item.filename or "upload")
            return add_uploads(index, paths, names).to_json()

    @api.get("/documents", summary="The documents in the index")
    def documents() -> list[dict]:
        return [d.to_json() for d in index.documents()]

    @api.delete("/documents/{document_id:path}", summary="Remove a document from the index")
    def remove(document_id: str) -> JSONResponse:
        if index.remove(document_id):
            return JSONResponse({"removed": True})
        return JSONResponse({"error": f"no document {document_id!r} in the index"}, status_code=404)

    return api


def _copy_capped(source, target, cap: int) -> None:  # type: ignore[no-untyped-def]
    """Copy at most `cap` bytes: one more than the size limit is enough to refuse the file as too large."""
    while cap > 0 and (chunk := source.read(min(cap, 1 << 20))):
        target.write(chunk)
        cap -= len(chunk)


def install(app: FastAPI, index: Index) -> None:
    """Add the API routes and turn every error into one-line JSON: `{"error": "..."}`."""
    app.include_router(router(index))

    @app.exception_handler(RagError)
    async def rag_error(_: Request, exc: RagError) -> JSONResponse:
        bad_input = isinstance(exc, (EmptyQuestionError, ConfigError, DocumentError))
        return JSONResponse({"error": str(exc)}, status_code=400 if bad_input else 500)

    @app.exception_handler(guard.Refused)
    async def refused(_: Request, exc: guard.Refused) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg', '')}"
                             for e in exc.errors()[:3])
        return JSONResponse({"error": f"invalid request: {problems}"[:300]}, status_code=422)

    @app.exception_handler(Exception)
    async def failed(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": f"the server failed on this request ({type(exc).__name__})"}, status_code=500)
