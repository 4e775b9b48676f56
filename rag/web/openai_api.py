"""The OpenAI-compatible chat API, on the same server and Index as the chat and the REST API.

    GET  /v1/models              {"object": "list", "data": [{"id": "rag", ...}, {"id": <corpus name>, ...}]}
    POST /v1/chat/completions    a `chat.completion`, or with "stream": true server-sent `chat.completion.chunk`
                                 events ending with `data: [DONE]`

The last message must be the user's: it is the question; the earlier user and assistant turns are its history
(system and tool messages are ignored: the engine has its own prompt). `model` is `rag` or the corpus's name.
The answer text carries the [n] markers. Two extra top-level fields, which OpenAI clients ignore:
`citations` (each as in `rag ask --json`: n, document, title, url, passage_id, quote, start, end, ...) and `rag`
(answer, refused, mode, model, label, notice, standalone_question, settings_hash). When streaming, both come in the
final chunk, the one whose finish_reason is "stop"; the streamed deltas are renumbered as they go (rag.web.relay).
Errors have OpenAI's shape, {"error": {"message", "type", "param", "code"}}: 400 for a bad request (an empty
question, a malformed body), 404 for an unknown model, 500 otherwise; an error after streaming began is sent as
one `data: {"error": ...}` event.

Not handled: sampling parameters (temperature, max_tokens, n, tools, response_format, ...) are accepted and
ignored; token usage is not reported.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from itertools import chain
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from rag import Answer, ConfigError, DocumentError, EmptyQuestionError, Index, RagError
from rag.citations import strip_markers
from rag.web import guard
from rag.web.relay import MarkerRelay

DEFAULT_MODEL = "rag"
RAG_FIELDS = ("refused", "mode", "model", "label", "notice", "standalone_question", "settings_hash")


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str = Field(description="user, assistant, system, developer or tool.")
    content: str | list[dict[str, Any]] | None = Field(None, description="Text, or a list of parts.")


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = Field(DEFAULT_MODEL, description=f"'{DEFAULT_MODEL}' or the corpus's name (see /v1/models).")
    messages: list[ChatMessage] = Field(min_length=1, description="The conversation; the last one is the question.")
    stream: bool = Field(False, description="Send server-sent chat.completion.chunk events.")


class OpenAIError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.param, self.code = status, param, code

    def body(self) -> dict[str, Any]:
        kind = "invalid_request_error" if self.status < 500 else "server_error"
        return {"error": {"message": str(self), "type": kind, "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status)


def _as_openai(exc: Exception) -> OpenAIError:
    if isinstance(exc, OpenAIError):
        return exc
    if isinstance(exc, RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request", "type": ""}
        if first.get("type") == "json_invalid":
            return OpenAIError(400, "the request body is not valid JSON", None, "invalid_json")
        param = ".".join(str(part) for part in first["loc"][1:]) or None
        message = f"{param}: {first['msg']}" if param else f"the body must be a JSON object: {first['msg']}"
        return OpenAIError(400, message, param, "invalid_request")
    if isinstance(exc, EmptyQuestionError):
        return OpenAIError(400, str(exc), "messages", "empty_question")
    if isinstance(exc, (ConfigError, DocumentError)):
        return OpenAIError(400, str(exc), None, "invalid_request")
    if isinstance(exc, RagError):
        return OpenAIError(500, str(exc), None, "rag_error")
    return OpenAIError(500, f"internal error: {type(exc).__name__}", None, "internal_error")


class OpenAIRoute(APIRoute):
    """Routes whose every error, schema errors included, is in OpenAI's shape (only under /v1)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:  # noqa: BLE001 - every error in OpenAI's shape, one line, no traceback
                return _as_openai(exc).response()

        return route


def corpus_name(index: Index) -> str:
    corpus = Path(index.settings.corpus)
    return corpus.parent.name if corpus.suffix == ".jsonl" and corpus.parent.name else corpus.stem


def _text(message: ChatMessage) -> str:
    if isinstance(message.content, list):
        return "\n".join(str(p.get("text", "")) for p in message.content if p.get("type") == "text")
    return message.content or ""


def _question_and_history(messages: list[ChatMessage]) -> tuple[str, list[dict[str, str]]]:
    last = messages[-1]
    if last.role != "user":
        raise OpenAIError(400, f"the last message must be the user's question, not a {last.role!r} message",
                          "messages", "invalid_request")
    question = _text(last).strip()
    if not question:
        raise EmptyQuestionError()
    history = [{"role": m.role, "content": strip_markers(_text(m)) if m.role == "assistant" else _text(m)}
               for m in messages[:-1] if m.role in ("user", "assistant")]
    return question, history


def extras(answer: Answer) -> dict[str, Any]:
    """The documented extra fields of a completion (and of the last chunk of a stream)."""
    data = answer.to_json()
    return {"citations": data["citations"], "rag": {"answer": answer.text, **{k: data[k] for k in RAG_FIELDS}}}


def router(index: Index) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["openai"], route_class=OpenAIRoute)

    def models() -> list[str]:
        return list(dict.fromkeys([DEFAULT_MODEL, corpus_name(index)]))

    @api.get("/models", summary="The corpus, as a model")
    def list_models() -> dict:
        created = int(time.time())
        return {"object": "list", "data": [{"id": m, "object": "model", "created": created, "owned_by": "rag"}
                                           for m in models()]}

    @api.post("/chat/completions", summary="Answer the last user message, with citations (OpenAI-compatible)")
    def chat_completions(body: ChatRequest) -> Response:
        if body.model not in models():
            raise OpenAIError(404, f"The model {body.model!r} does not exist: use one of {', '.join(models())}.",
                              "model", "model_not_found")
        question, history = _question_and_history(body.messages)
        try:  # the same limits as /api/ask
            guard.check_question(index.settings, question)
            guard.check_history(index.settings, [turn["content"] for turn in history])
        except guard.Refused as exc:
            raise OpenAIError(400, str(exc), "messages", "context_length_exceeded") from exc
        head = {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": body.model}
        if not body.stream:
            answer = index.ask(question, history=history)
            message = {"role": "assistant", "content": answer.text, "refusal": None}
            choice = {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
            return JSONResponse({**head, "object": "chat.completion", "choices": [choice], **extras(answer)})
        items = index.stream(question, history=history)
        first = next(items)  # retrieval happens here: its errors are still an HTTP status, not an event
        relay = MarkerRelay(_passage_bound(index))
        return StreamingResponse(_events(chain([first], items), relay, head), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return api


def _passage_bound(index: Index) -> int:
    """How many passages an answer can cite: top-k, or fewer when the index holds fewer chunks."""
    return min(index.settings.top_k, sum(d.chunks for d in index.documents()))


def _events(items: Iterator[str | Answer], relay: MarkerRelay, head: dict[str, Any]) -> Iterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {**head, "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    try:
        for item in items:
            text = relay.finish(item) if isinstance(item, Answer) else relay.feed(item)
            if text:
                yield chunk({"content": text})
            if isinstance(item, Answer):
                yield chunk({}, "stop", **extras(item))
    except Exception as exc:  # noqa: BLE001 - the status line is sent: the error goes to the client as an event
        yield f"data: {json.dumps(_as_openai(exc).body(), ensure_ascii=False)}\n\n"
        return
    yield "data: [DONE]\n\n"


def install(app: FastAPI, index: Index) -> None:
    """Add the /v1 routes."""
    app.include_router(router(index))
