"""A scripted, OpenAI-compatible chat-completions server for tests.

    with FakeLLM() as fake:
        fake.reply("Paris.")                  # next request gets this answer (SSE chunks if stream=true)
        fake.fail(429, "slow down")           # next one gets an OpenAI-style error body
        fake.hang(5)                          # next one waits 5 s first (to trip client timeouts)
        fake.break_stream("partial answer")   # next one streams some deltas, then the connection drops
        fake.reply("Cut", finish_reason="length")   # the model stopped at its token limit
        fake.trickle(30, every=0.2)           # headers, then an SSE keep-alive comment every 0.2 s for 30 s
        fake.drip("slow answer", every=0.5)   # the answer one character at a time, one every 0.5 s
        ... point a client at fake.base_url ...
        fake.requests                         # JSON bodies received at /v1/chat/completions, in order
        fake.posts                            # (path, JSON body) of every POST, any path (e.g. Ollama's /api/chat)

Each POST to /v1/chat/completions consumes one scripted action; with none left the server answers
500 "no scripted reply", so a test that forgot to script fails loudly. GET /v1/models is served too.
The server is stdlib `ThreadingHTTPServer` speaking HTTP/1.1 (streams use chunked encoding) in a
daemon thread on 127.0.0.1 with a free port.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL_ID = "test-model"

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
}


@dataclass(frozen=True)
class _Action:
    kind: str  # "reply" | "fail" | "hang" | "break" | "trickle" | "drip"
    text: str = ""
    status: int = 200
    code: str | None = None
    seconds: float = 0.0
    finish_reason: str = "stop"
    every: float = 0.0  # trickle/drip: seconds between two sends


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (the port was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def _split(text: str, parts: int = 4) -> list[str]:
    """Split text into up to `parts` non-empty pieces (at least one, even for "")."""
    if len(text) <= 1:
        return [text]
    size = max(1, -(-len(text) // parts))
    return [text[i : i + size] for i in range(0, len(text), size)]


class FakeLLM:
    """Scripted OpenAI-compatible server; see the module docstring."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.posts: list[tuple[str, Any]] = []
        self.headers: list[dict[str, str]] = []  # the HTTP headers of each of those requests
        self._queue: deque[_Action] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        self.in_flight = 0  # requests being answered right now
        self.max_in_flight = 0  # the most that were ever answered at once

    # ---- scripting -------------------------------------------------------------------------
    def reply(self, text: str, finish_reason: str = "stop") -> None:
        """Queue a normal answer (a chat.completion, or SSE chunks when the request streams), ending with
        `finish_reason` ("stop", or "length" for a reply cut at the token limit)."""
        self._push(_Action("reply", text=text, finish_reason=finish_reason))

    def fail(self, status: int, message: str = "scripted failure", code: str | None = None,
             delay: float = 0.0) -> None:
        """Queue an HTTP error with body {"error": {"message", "type", "code"}}, sent after `delay` seconds."""
        self._push(_Action("fail", text=message, status=status, code=code, seconds=delay))

    def hang(self, seconds: float, text: str = "too late") -> None:
        """Queue an answer that is sent only after sleeping `seconds`."""
        self._push(_Action("hang", text=text, seconds=seconds))

    def break_stream(self, text: str = "partial answer") -> None:
        """Queue a stream that sends some deltas of `text`, then drops the connection mid-body
        (no final chunk, no [DONE]). A non-streaming request gets a truncated body instead."""
        self._push(_Action("break", text=text))

    def trickle(self, seconds: float, every: float = 0.2, text: str = "too late") -> None:
        """Queue a stream that sends its headers, then an SSE comment (": keep-alive") every `every` seconds for
        `seconds`, and only then `text`: each byte arrives well within any read timeout, the answer never
        does. A non-streaming request gets the same keep-alive bytes (whitespace) before its JSON body."""
        self._push(_Action("trickle", text=text, seconds=seconds, every=every))

    def drip(self, text: str, every: float = 0.5) -> None:
        """Queue a stream whose deltas are one character each, sent `every` seconds apart."""
        self._push(_Action("drip", text=text, every=every))

    def _push(self, action: _Action) -> None:
        with self._lock:
            self._queue.append(action)

    def _pop(self) -> _Action | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    @property
    def pending(self) -> int:
        """Scripted actions not yet consumed."""
        with self._lock:
            return len(self._queue)

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeLLM:
        if self._server is not None:
            return self
        server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="FakeLLM", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _make_handler(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet tests
            pass

        # -- helpers --
        def _send_json(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _send_error(self, status: int, message: str, code: str | None) -> None:
            kind = _ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
            self._send_json(status, {"error": {"message": message, "type": kind, "code": code, "param": None}})

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _stream_headers(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()

        def _keep_alive(self, seconds: float, every: float, payload: bytes) -> None:
            """Send `payload` every `every` seconds for `seconds` (raises OSError when the client hangs up)."""
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                self._chunk(payload)
                time.sleep(every)

        def _send_stream(self, action: _Action) -> None:
            text, broken = action.text, action.kind == "break"
            self._stream_headers()
            if action.kind == "trickle":
                self._keep_alive(action.seconds, action.every, b": keep-alive\n\n")
            created = int(time.time())
            pieces = list(text) if action.kind == "drip" else _split(text)
            if broken:
                pieces = pieces[: max(1, len(pieces) // 2)]
            deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
            deltas += [{"content": p} for p in pieces]
            for i, delta in enumerate(deltas):
                if action.kind == "drip" and i:
                    time.sleep(action.every)
                chunk = {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": MODEL_ID,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
                }
                self._chunk(f"data: {json.dumps(chunk)}\n\n".encode())
                if broken and i == len(deltas) - 1:
                    self.wfile.write(b"40\r\ndata: {\"trunc")  # a chunk cut short, then hang up
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
            final = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": created,
                "model": MODEL_ID,
                "choices": [{"index": 0, "delta": {}, "finish_reason": action.finish_reason}],
            }
            self._chunk(f"data: {json.dumps(final)}\n\n".encode())
            self._chunk(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _send_completion(self, action: _Action) -> None:
            text = action.text
            if action.kind == "trickle":  # whitespace before a JSON body is valid JSON: a keep-alive
                body = json.dumps(self._completion(text, action.finish_reason)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self._keep_alive(action.seconds, action.every, b" ")
                self._chunk(body)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
                return
            if action.kind == "drip":
                time.sleep(action.every * len(text))
            self._send_json(200, self._completion(text, action.finish_reason))

        def _completion(self, text: str, finish_reason: str) -> dict[str, Any]:
            return {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": MODEL_ID,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish_reason}
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }

        # -- routes --
        def do_GET(self) -> None:  # noqa: N802
            if self.path.rstrip("/") == "/v1/models":
                model = {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "fakellm"}
                self._send_json(200, {"object": "list", "data": [model]})
            else:
                self._send_error(404, f"no route GET {self.path}", None)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                fake.posts.append((self.path, json.loads(raw or b"{}")))
            except json.JSONDecodeError:
                fake.posts.append((self.path, raw))
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send_error(404, f"no route POST {self.path}", None)
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._send_error(400, "request body is not JSON", None)
                return
            with fake._lock:
                fake.requests.append(body)
                fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                fake.in_flight += 1
                fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
            try:
                self._answer(body)
            finally:
                with fake._lock:
                    fake.in_flight -= 1

        def _answer(self, body: dict[str, Any]) -> None:
            streaming = bool(body.get("stream"))
            action = fake._pop()
            if action is None:
                self._send_error(500, "no scripted reply", None)
                return
            try:
                if action.kind == "fail":
                    time.sleep(action.seconds)
                    self._send_error(action.status, action.text, action.code)
                    return
                if action.kind == "hang":
                    time.sleep(action.seconds)
                if action.kind == "break" and not streaming:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    self.wfile.write(b'{"id": "chatcmpl-fake", "obj')
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if streaming:
                    self._send_stream(action)
                else:
                    self._send_completion(action)
            except (BrokenPipeError, ConnectionResetError, OSError):
                self.close_connection = True  # the client gave up (e.g. after its timeout)

    return Handler
