"""The server's key (RAG_SERVER_KEY): who may use the server when it is reachable from other machines.

    check_exposure(settings)   refuse to start on a non-loopback address without a key (a ConfigError, one line)
    install(app, settings)     with a key: every request to /api, /v1 or /mcp must carry `Authorization: Bearer
                               KEY`, else 401 (OpenAI's error shape on /v1, `{"error": "..."}` elsewhere); the
                               OpenAPI page (/docs) gets an Authorize button for it
    gradio_login(settings)     with a key: the chat's login (Gradio's own auth), the key as the password

Without a key on loopback nothing is asked. Keys are compared in constant time. Not handled: several keys, scopes,
rate limits, TLS (put a reverse proxy in front for HTTPS).
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from rag import ConfigError, Settings

PROTECTED = ("/api", "/v1", "/mcp")
LOGIN_MESSAGE = ("This server asks for its key (RAG_SERVER_KEY): type any name as the username and the key as the "
                 "password.")


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost; any other name or address counts as exposed."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings) -> None:
    if settings.server_key is None and not is_loopback(settings.host):
        raise ConfigError(
            f"refusing to listen on {settings.host} without a key: set RAG_SERVER_KEY (clients send it as "
            "'Authorization: Bearer KEY', the chat asks for it), or bind to 127.0.0.1"
        )


def key_matches(given: str | None, key: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), key.encode())


def _protected(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in PROTECTED)


def bearer(request: Any) -> str | None:
    """The Bearer token of a Starlette request, or None."""
    return _bearer(request.scope)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
    return None


class BearerKey:
    """ASGI middleware: the protected paths answer 401 unless the request carries the key as a Bearer token."""

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app = app
        self.key = key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _protected(scope["path"]):
            token = _bearer(scope)
            if not key_matches(token, self.key):
                message = ("missing key: send the server's RAG_SERVER_KEY as 'Authorization: Bearer KEY'"
                           if token is None else "wrong key: this is not the server's RAG_SERVER_KEY")
                body: dict[str, Any] = {"error": message}
                if scope["path"].startswith("/v1"):
                    body = {"error": {"message": message, "type": "invalid_request_error", "param": None,
                                      "code": "invalid_api_key"}}
                response = JSONResponse(body, status_code=401, headers={"WWW-Authenticate": 'Bearer realm="rag"'})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def install(app: FastAPI, settings: Settings) -> None:
    if settings.server_key is None:
        return
    app.add_middleware(BearerKey, key=settings.server_key.get_secret_value())
    schema_of = app.openapi

    def openapi() -> dict[str, Any]:  # the /docs page's Authorize button sends the key
        schema = schema_of()
        schema.setdefault("components", {}).setdefault("securitySchemes", {})["serverKey"] = {
            "type": "http", "scheme": "bearer", "description": "The server's RAG_SERVER_KEY."}
        schema["security"] = [{"serverKey": []}]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def gradio_login(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for gr.mount_gradio_app: none without a key, else Gradio's login with the key."""
    if settings.server_key is None:
        return {}
    key = settings.server_key.get_secret_value()

    def login(username: str, password: str) -> bool:
        return key_matches(password, key)

    return {"auth": login, "auth_message": LOGIN_MESSAGE}
