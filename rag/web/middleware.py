"""The HTTP guards around the whole app (REST API and mounted Gradio alike), as ASGI middlewares:

    install(app, settings)   adds, outermost first: the Host check (Starlette's TrustedHostMiddleware: loopback
                             names, the bound address and RAG_ALLOWED_HOSTS; others get 400), the request body
                             limit (413), and the security headers (a Content-Security-Policy on every response, with
                             the hashes of the page's own inline scripts)

The body limit is RAG_MAX_REQUEST_MB for every route but the two upload routes (Gradio's /gradio_api/upload and
/api/upload), which may carry RAG_MAX_UPLOAD_FILES x RAG_MAX_FILE_MB. Not here: what a request may ask for
(rag.web.guard), authentication.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag import Settings

LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
UPLOAD_PATHS = ("/gradio_api/upload", "/api/upload")

# The tightest policy under which Gradio 6 works (measured in Chromium, see tests/test_websec_browser.py). Gradio's
# page has inline scripts (its config, its loader): each is allowed by its own hash, computed per response, so an
# injected inline script is not ('unsafe-inline' is kept only for browsers without CSP2 hashes; the others ignore
# it when a hash is present). Svelte sets inline styles, so styles need 'unsafe-inline'. Images and fonts only
# from here (data: for Gradio's own icons), no frames, no plugins, no form posts elsewhere, no framing by others.
APP_POLICY = [
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline'{hashes}",
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
]
# FastAPI's /docs and /redoc load Swagger UI and ReDoc from a CDN; they show the API schema, no corpus text.
DOCS_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com",
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
    "font-src 'self' https://fonts.gstatic.com",
    "worker-src 'self' blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
])
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")
OTHER_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", re.S | re.I)


def app_policy(page: bytes = b"") -> str:
    """The app's policy, allowing the inline scripts of `page` (an HTML body) by their sha256."""
    hashes = "".join(f" 'sha256-{base64.b64encode(hashlib.sha256(m).digest()).decode()}'"
                     for m in dict.fromkeys(_INLINE_SCRIPT.findall(page)))
    return "; ".join(APP_POLICY).format(hashes=hashes)


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
    """Add the Content-Security-Policy and its companions to every HTTP response. An HTML page is held until its
    body is complete (Gradio's page is one small template), so that its inline scripts' hashes go in the policy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"].rstrip("/") in DOCS_PATHS
        start: Message | None = None
        body: list[bytes] = []

        async def with_headers(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
                if html and not docs:
                    start = message  # wait for the body
                    return
                await send(_headers(message, DOCS_POLICY if docs else app_policy()))
            elif start is not None and message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    page = b"".join(body)
                    await send(_headers(start, app_policy(page)))
                    await send({"type": "http.response.body", "body": page})
            else:
                await send(message)

        await self.app(scope, receive, with_headers)


def _headers(start: Message, policy: str) -> Message:
    headers = list(start.get("headers", []))
    names = {k.lower() for k, _ in headers}
    extra = [(b"content-security-policy", policy.encode())] + OTHER_HEADERS
    return {**start, "headers": headers + [(k, v) for k, v in extra if k not in names]}


def install(app: Any, settings: Settings) -> None:
    """Wrap `app` (before it starts): the last added runs first, so the Host check is outermost."""
    mb = 1_000_000
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, limit=int(settings.max_request_mb * mb),
                       upload_limit=int(settings.max_upload_files * settings.max_file_mb * mb + mb))
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(settings))
