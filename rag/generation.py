"""Calls to the language model, through litellm (the only module of `rag` that imports it).

    config = LLMConfig(model="openai/gpt-4o-mini")                       # or "ollama_chat/llama3", "anthropic/..."
    config = LLMConfig(model="openai/qwen2", api_base="http://localhost:8000/v1")  # OpenAI-compatible
    complete(messages, config) -> str          # the whole answer
    reply = stream(messages, config)           # iterate: text deltas as they arrive; then reply.finish_reason
    count_tokens(messages, config) -> int      # the prompt's size in the model's tokens (litellm's counter)
    context_window(config) -> int              # the model's input window (setting, litellm's model info, or 8192)
    describe(config) -> str                    # short label for UIs

Every failure, including one raised while a stream is being iterated, becomes `rag.errors.LLMError`
with a one-line message naming the model and what went wrong, and `kind` one of: timeout, rate_limit,
server, auth, connection, context_length, bad_request, unknown. An empty answer is an LLMError too.

`config.timeout` bounds the whole call (connect, every byte, retries): rag.deadline runs litellm's async API
under that deadline (a read timeout cannot: a server sending a keep-alive byte a second never trips one).
A reply is cut at `config.reply_cap` characters, the rest unread (`finish_reason` "length", `capped` true).
Keys: with `api_base` set and no `api_key`, the provider's own `<PROVIDER>_API_KEY` variable wins, else a
placeholder is sent. Ollama models (`ollama_chat/`, `ollama/`) get the context size as `num_ctx`.

litellm quirks this module relies on (litellm 1.110):
  * `num_retries=N` is applied twice for OpenAI-compatible models: the openai SDK retries 408/429/5xx/
    connection errors N times, then litellm's wrapper re-calls N more times (for any API error, 401 and
    400 included). A persistent 500 thus costs 2N+1 requests; N=0 means exactly one.
  * A refused connection surfaces as `litellm.InternalServerError` ("Connection error."), and a stream
    cut off mid-body as `MidStreamFallbackError` (a 5xx class): the real cause is found by walking
    `original_exception` / `__cause__`, which rag.llm_errors does before falling back to the status code.
  * The non-streaming path moves a leading `<think>` block out of the content; the streaming path passes it
    through. Callers strip reasoning themselves (rag.reasoning), the same way for both.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # else importing litellm fetches a price list

import litellm  # noqa: E402

from rag import deadline  # noqa: E402
from rag.errors import ConfigError, LLMError  # noqa: E402
from rag.llm_errors import translate  # noqa: E402

litellm.suppress_debug_info = True
warnings.filterwarnings("ignore", message=r".*is using the `ReadOnly` qualifier", category=UserWarning)
for _name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)

NO_KEY = "sk-no-key"  # OpenAI-compatible local servers ignore the key, but the client insists on one
DEFAULT_CONTEXT_WINDOW = 8192  # tokens, for a model litellm does not know (and no setting says)
CHARS_PER_TOKEN = 8  # the reply cap: generous (English averages about 4), so only a runaway reply is cut
_KEY_ALIASES = {"azure": ("AZURE_API_KEY", "AZURE_OPENAI_API_KEY"), "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY")}


@dataclass(frozen=True)
class LLMConfig:
    """Which model to call and how. `model` is any litellm model string ("provider/name")."""

    model: str
    api_base: str | None = None
    api_key: str | None = None
    timeout: float = 60.0  # seconds for the whole call, retries included
    retries: int = 2
    temperature: float = 0.0
    max_tokens: int | None = 800
    context_window: int | None = None  # tokens; None: litellm's model info, else DEFAULT_CONTEXT_WINDOW
    max_chars: int | None = None  # reply cap; None: CHARS_PER_TOKEN x max_tokens (at least 4,000)

    def __post_init__(self) -> None:
        if not self.model.strip():
            raise ConfigError("The LLM model name is empty: set it, e.g. openai/gpt-4o-mini.")
        if self.timeout <= 0:
            raise ConfigError(f"The LLM timeout must be positive, not {self.timeout}.")
        if self.retries < 0:
            raise ConfigError(f"The LLM retries must be 0 or more, not {self.retries}.")

    @property
    def reply_cap(self) -> int:
        return self.max_chars if self.max_chars is not None else max(4000, CHARS_PER_TOKEN * (self.max_tokens or 2000))


def describe(config: LLMConfig) -> str:
    """A short label for UIs: the model, plus the server's host:port when api_base is set."""
    if config.api_base:
        host = urlparse(config.api_base).netloc or config.api_base
        return f"{config.model} @ {host}"
    return config.model


# --- calls ---------------------------------------------------------------------------------------


def complete(messages: list[dict[str, Any]], config: LLMConfig) -> str:
    """Return the model's whole answer to `messages` (cut at the reply cap); raise LLMError on any failure or
    an empty answer."""

    async def call() -> str:
        response = await litellm.acompletion(**_kwargs(messages, config, stream=False))
        return response.choices[0].message.content or ""

    try:
        text = deadline.call(call, config.timeout)
    except Exception as exc:  # every litellm/openai/httpx failure, and the deadline, translated below
        raise translate(exc, config) from exc
    if not text.strip():
        raise LLMError(f"LLM {config.model} returned an empty answer", "unknown")
    return text[: config.reply_cap]


class Reply:
    """A streamed answer: iterate it (once) for the text deltas; afterwards `finish_reason` says why it ended
    ("stop", "length", ... or None when the server did not say) and `capped` whether it was cut here."""

    def __init__(self, messages: list[dict[str, Any]], config: LLMConfig) -> None:
        self.messages = messages
        self.config = config
        self.finish_reason: str | None = None
        self.capped = False

    def __iter__(self) -> Iterator[str]:
        got_text = False
        try:
            for delta in deadline.iterate(self._deltas, self.config.timeout):
                got_text = got_text or bool(delta.strip())
                yield delta
        except Exception as exc:
            raise translate(exc, self.config) from exc
        if not got_text:
            raise LLMError(f"LLM {self.config.model} returned an empty answer", "unknown")

    async def _deltas(self) -> AsyncIterator[str]:
        cap, size = self.config.reply_cap, 0
        response = await litellm.acompletion(**_kwargs(self.messages, self.config, stream=True))
        try:
            async for chunk in response:
                choice = chunk.choices[0] if chunk.choices else None
                delta = choice.delta.content if choice is not None and choice.delta else None
                if delta:
                    if size + len(delta) >= cap:  # a runaway reply: the rest is never read
                        self.finish_reason, self.capped = "length", True
                        yield delta[: cap - size]
                        return
                    size += len(delta)
                    yield delta
                if choice is not None and choice.finish_reason:
                    self.finish_reason = choice.finish_reason
        finally:
            with contextlib.suppress(Exception):  # closing a dead connection may fail; nothing to do
                await response.aclose()


def stream(messages: list[dict[str, Any]], config: LLMConfig) -> Reply:
    """The answer as a `Reply`: iterate it for text deltas; LLMError on failure, also mid-stream."""
    return Reply(messages, config)


def count_tokens(messages: list[dict[str, Any]], config: LLMConfig) -> int:
    """The size of `messages` in the model's tokens (litellm's counter; tiktoken's for unknown models)."""
    try:
        return int(litellm.token_counter(model=config.model, messages=messages))
    except Exception:  # noqa: BLE001 - a counter that fails must not stop the answer: estimate
        return sum(len(str(m.get("content", ""))) for m in messages) // 3


def context_window(config: LLMConfig) -> int:
    """The model's input window in tokens: the setting, else litellm's model info, else 8,192."""
    if config.context_window:
        return config.context_window
    try:
        info = litellm.get_model_info(config.model)
        return int(info.get("max_input_tokens") or info.get("max_tokens") or DEFAULT_CONTEXT_WINDOW)
    except Exception:  # noqa: BLE001 - litellm raises for models it does not map
        return DEFAULT_CONTEXT_WINDOW


def _provider(model: str) -> str:
    try:
        return str(litellm.get_llm_provider(model)[1])
    except Exception:  # noqa: BLE001 - an unknown provider: litellm will say so at call time
        return model.split("/", 1)[0] if "/" in model else "openai"


def _api_key(config: LLMConfig) -> str | None:
    """The key to send: the explicit one; else None (litellm reads the provider's variable); with an api_base
    and no provider variable set, a placeholder."""
    if config.api_key is not None or config.api_base is None:
        return config.api_key
    provider = _provider(config.model)
    names = _KEY_ALIASES.get(provider, (f"{provider.upper()}_API_KEY",))
    return None if any(os.environ.get(name) for name in names) else NO_KEY


def _kwargs(messages: list[dict[str, Any]], config: LLMConfig, *, stream: bool) -> dict[str, Any]:
    kwargs = {
        "model": config.model,
        "messages": messages,
        "api_base": config.api_base,
        "api_key": _api_key(config),
        "timeout": config.timeout,
        "num_retries": config.retries,
        "temperature": config.temperature,
        "max_tokens": config.max_tokens,
        "stream": stream,
        "drop_params": True,  # a provider that lacks e.g. temperature gets the call without it
    }
    if _provider(config.model) in ("ollama", "ollama_chat"):
        kwargs["num_ctx"] = context_window(config)
    return kwargs
