"""The HTTP guards around the whole app (REST API and mounted Gradio alike), as ASGI middlewares:

    install(app, settings)   adds, outermost first: the Host check (Starlette's TrustedHostMiddleware: loopback
                             names, the bound address and RAG_ALLOWED_HOSTS; others get 400), the request body
                             limit (413), and the security headers (a Content-Security-Policy on every response)

The body limit is RAG_MAX_REQUEST_MB for every route but the two upload routes (Gradio's /gradio_api/upload and
/api/upload), which may carry RAG_MAX_UPLOAD_FILES x RAG_MAX_FILE_MB. Not here: what a request may ask for
(rag.web.guard), authentication.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag import Settings

LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
UPLOAD_PATHS = ("/gradio_api/upload", "/api/upload")

# The tightest policy under which Gradio 6 works (measured in Chromium, see tests/test_websec_browser.py):
# Gradio's page has inline scripts (its config, its loader) and sets inline styles, so both need
# 'unsafe-inline'; everything else comes from this server. Images and fonts only from here (data: for Gradio's
# own icons), no frames, no plugins, no form posts elsewhere, and no page may frame this one.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "frame-src 'none'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


def allowed_hosts(settings: Settings) -> list[str]:
    """Loopback names, the address the server is bound to (unless a wildcard) and RAG_ALLOWED_HOSTS."""
    hosts = list(LOOPBACK_HOSTS)
    bound = settings.host.strip()
    if bound and bound not in ("0.0.0.0", "::", "[::]"):
        hosts.append(f"[{bound}]" if ":" in bound and not bound.startswith("[") else bound)
    return list(dict.fromkeys(hosts + [h.strip().lower() for h in settings.allowed_hosts]))


class BodyLimit:
    """Refuse request bodies over the limit with 413 and one line: at once when Content-Length says so, else as
    soon as the streamed body passes it (the app then reads a disconnect, and its own answer is dropped)."""

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int) -> None:
        self.app, self.limit, self.upload_limit = app, limit, upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope["path"].rstrip("/").endswith(UPLOAD_PATHS) else self.limit
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"").decode("latin-1").strip()
        if declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        seen, started, refused = 0, False, False

        async def counting_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    if not started:
                        await _too_large(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 is out: whatever the app answers after reading a disconnect is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not refused:
                raise


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"error": f"the request body is too large (the limit is {limit / 1e6:g} MB)"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """Add the Content-Security-Policy and its companions to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, receive, with_headers)


def install(app: Any, settings: Settings) -> None:
    """Wrap `app` (before it starts): the last added runs first, so the Host check is outermost."""
    mb = 1_000_000
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, limit=int(settings.max_request_mb * mb),
                       upload_limit=int(settings.max_upload_files * settings.max_file_mb * mb + mb))
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(settings))
