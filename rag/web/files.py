"""The corpus's own files, served read-only, so that a citation can open its source.

    GET /source/{document_id}     the original file of an indexed document: a PDF inline (a link may add
                                  #page=N), HTML as a sandboxed page, text as text/plain, DOCX as a download
    file_url(index, document_id)  that route's URL for a document, or None when it has no file to serve

With RAG_SERVER_KEY set, a request needs the key as a Bearer token or the link's own token (`?token=`, an HMAC
of the document id under the key, which the chat's sources panel, behind its login, puts in its links), else 401.
Only a document in the index whose file lies inside the corpus folder (RAG_CORPUS) or the uploads folder is
served, judged on the real path (every symlink followed, `..` removed) like rag.web.guard.confined(); anything
else is 404 with one line, whatever the id. A served HTML page gets a policy that runs no script and loads
nothing (`sandbox; default-src 'none'`), so a hostile page in the corpus cannot act as the app; so does every
other file. Not here: the
documents' URLs (they are links to elsewhere), ingestion.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from rag import Index, Settings
from rag.web import auth, guard

ROUTE = "/source"
_TYPES = {
    ".pdf": "application/pdf",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".markdown": "text/plain; charset=utf-8",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
# a corpus file is data: no script, nothing fetched, no framing (Chromium's PDF viewer works under this policy,
# and opens the page that #page=N names: checked in tests/test_sources_browser.py)
POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
NOT_SERVED = "no such document file: this server opens only the files of indexed documents in its corpus folder"


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def source_file(index: Index, document_id: str) -> Path | None:
    """The real path of an indexed document's file, if it lies in the corpus or uploads folder; else None."""
    if not document_id or "\x00" in document_id:
        return None
    info = next((d for d in index.documents() if d.id == document_id), None)
    if info is None or not info.source:
        return None
    corpus, uploads = guard.roots(index.settings)
    source = Path(info.source)
    relative = document_id
    if source == uploads and relative.startswith(f"{guard.UPLOADS}/"):
        relative = relative[len(guard.UPLOADS) + 1:]
    base = source if source.is_dir() else source.parent
    real = Path(os.path.realpath(base / relative))
    allowed = _inside(real, uploads) or (_inside(real, corpus) if corpus.is_dir() else real == corpus)
    if not allowed or not real.is_file() or real.suffix.lower() not in _TYPES:
        return None
    return real


def link_token(settings: Settings, document_id: str) -> str | None:
    """With a server key, the token a file link carries (an HMAC of the document id under the key): the chat,
    behind its login, hands it out; a client of the API may send the key as a Bearer token instead."""
    if settings.server_key is None:
        return None
    key = settings.server_key.get_secret_value().encode()
    return hmac.new(key, document_id.encode(), hashlib.sha256).hexdigest()[:32]


def file_url(index: Index, document_id: str) -> str | None:
    """The app's URL of a document's file (`/source/<id>`), or None when there is none to serve."""
    if source_file(index, document_id) is None:
        return None
    token = link_token(index.settings, document_id)
    return f"{ROUTE}/{quote(document_id)}" + (f"?token={token}" if token else "")


def _allowed(settings: Settings, request: Request, document_id: str) -> bool:
    expected = link_token(settings, document_id)
    if expected is None:
        return True
    given = request.query_params.get("token") or ""
    key = settings.server_key.get_secret_value() if settings.server_key is not None else ""
    return hmac.compare_digest(given.encode(), expected.encode()) or auth.key_matches(auth.bearer(request), key)


def router(index: Index) -> APIRouter:
    files = APIRouter(tags=["rag"])

    @files.get(ROUTE + "/{document_id:path}", summary="The original file of an indexed document (read-only)")
    def source(document_id: str, request: Request) -> Response:
        if not _allowed(index.settings, request, document_id):
            return JSONResponse({"error": "this server needs its key: open the file from the chat's sources, or "
                                 "send Authorization: Bearer KEY"}, status_code=401)
        path = source_file(index, document_id)
        if path is None:
            return JSONResponse({"error": NOT_SERVED}, status_code=404)
        ext = path.suffix.lower()
        disposition = "attachment" if ext == ".docx" else "inline"
        return FileResponse(path, media_type=_TYPES[ext], content_disposition_type=disposition,
                            filename=path.name, headers={"Content-Security-Policy": POLICY})

    return files


def install(app: FastAPI, index: Index) -> None:
    app.include_router(router(index))
