"""What a client of the server may ask for: the checks shared by the REST API and the chat.

    check_model(settings, model)          a model outside RAG_MODEL + RAG_ALLOWED_MODELS -> Refused(400)
    check_question / check_history / check_ids    the per-request size limits -> Refused(400)
    confined(settings, path)              a server path to ingest, only inside the corpus or uploads -> Refused(403)
    uploaded_only(demo, files)            the chat's upload event: only files this server's upload route wrote
    safe_name(name)                       a client's file name reduced to a plain, short base name

Each refusal is one line for the user and names no server path, URL or key. Not here: the HTTP middlewares
(rag.web.middleware), the ingestion itself, what the engine does with a question.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rag import Settings

UPLOADS = "uploads"
OUTSIDE = ("path not allowed: the server ingests only files inside its corpus folder and its uploads folder "
           "(send new files with POST /api/upload)")


class Refused(Exception):
    """A request the server will not serve: `status` (400, 403, 413) and a one-line message."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def allowed_models(settings: Settings) -> list[str]:
    """The models a client may choose, the configured one first; empty when the server answers offline only."""
    names = ([settings.model] if settings.model else []) + list(settings.allowed_models)
    return list(dict.fromkeys(n.strip() for n in names if n and n.strip()))


def check_model(settings: Settings, model: str | None) -> str | None:
    """The model a request may use (None: the server's default); anything off the allow-list is refused."""
    name = (model or "").strip()
    if not name or name == (settings.model or ""):
        return None
    allowed = allowed_models(settings)
    if name not in allowed:
        choices = ", ".join(allowed) if allowed else "none (this server answers offline)"
        raise Refused(f"model {name[:80]!r} is not allowed on this server; choose one of: {choices} "
                      f"(the operator adds models with RAG_ALLOWED_MODELS)")
    return name


def check_question(settings: Settings, text: str, what: str = "question") -> None:
    if len(text) > settings.max_question_chars:
        raise Refused(f"the {what} is too long ({len(text):,} characters; the limit is "
                      f"{settings.max_question_chars:,}): shorten it")


def check_history(settings: Settings, turns: Sequence[str]) -> None:
    size = sum(len(t) for t in turns)
    if size > settings.max_history_chars:
        raise Refused(f"the history is too long ({size:,} characters over {len(turns)} turns; the limit is "
                      f"{settings.max_history_chars:,}): send fewer or shorter turns")


def check_ids(settings: Settings, ids: Sequence[str] | None, what: str = "documents") -> None:
    if ids is not None and len(ids) > settings.max_request_ids:
        raise Refused(f"too many ids in {what!r} ({len(ids):,}; the limit is {settings.max_request_ids:,})")


def roots(settings: Settings) -> tuple[Path, Path]:
    """The two places the server ingests from: the corpus (folder or file) and the uploads folder, resolved."""
    return Path(settings.corpus).resolve(), (Path(settings.index_dir) / UPLOADS).resolve()


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def confined(settings: Settings, requested: str | None) -> tuple[Path, str]:
    """The path to ingest for a request, and the id prefix to use; refuses (403) anything outside the corpus
    folder and the uploads folder, judged on the real path (every symlink followed, `..` removed)."""
    corpus, uploads = roots(settings)
    if requested is None or not requested.strip():
        return Path(settings.corpus), ""
    if "\x00" in requested:
        raise Refused(OUTSIDE, 403)
    real = Path(os.path.realpath(Path(requested).expanduser()))
    if _inside(real, uploads):
        return uploads, f"{UPLOADS}/"
    if _inside(real, corpus):
        return (Path(settings.corpus) if real == corpus else real), ""
    raise Refused(OUTSIDE, 403)


def uploaded_only(demo: Any, files: Iterable[str | Path]) -> list[Path]:
    """The files of a chat upload event, each checked to be a file Gradio's upload route wrote into this
    server's private upload folder (real path, symlinks followed). Gradio refuses other paths itself once the
    app is marked launched; this second check fails closed if Gradio's private `upload_file_set` goes away."""
    from gradio.utils import get_upload_folder

    root = Path(os.path.realpath(get_upload_folder()))
    uploaded = {os.path.realpath(p) for p in getattr(demo, "upload_file_set", ())}
    accepted = []
    for name in files:
        real = Path(os.path.realpath(name))
        if not _inside(real, root) or str(real) not in uploaded or not real.is_file():
            raise Refused(f"{safe_name(str(name))}: this file was not uploaded to this server; upload it again", 403)
        accepted.append(real)
    return accepted


_UNSAFE = re.compile(r"[^\w.\- ]+")


def safe_name(name: str, limit: int = 120) -> str:
    """A client's file name as a plain base name: no folders, no control or markup characters, no leading dot,
    at most `limit` characters (the extension kept)."""
    base = unicodedata.normalize("NFKC", name).replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip(" ._") or "upload"
    stem, dot, ext = base.rpartition(".")
    if dot and 0 < len(ext) <= 10 and stem:
        return stem[: limit - len(ext) - 1].rstrip(" ._") + "." + ext
    return base[:limit]
