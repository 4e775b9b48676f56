"""rag.generation through real litellm and real HTTP, against the scripted FakeLLM server.

Fault tests use retries=0 and short timeouts so the file runs in a few seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from rag.errors import ConfigError, LLMError
from rag.generation import LLMConfig, complete, describe, stream

try:
    from tests.fakellm import FakeLLM, closed_port_url
except ImportError:  # tests/ is not a package and only it is on sys.path
    from fakellm import FakeLLM, closed_port_url  # type: ignore[no-redef]

MODEL = "openai/test-model"
MESSAGES = [
    {"role": "system", "content": "Answer from the context only."},
    {"role": "user", "content": "Context: Paris is the capital of France.\n\nQuestion: capital of France?"},
]


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


def config(fake: FakeLLM, **overrides: object) -> LLMConfig:
    settings: dict[str, object] = {"api_base": fake.base_url, "timeout": 5.0, "retries": 0}
    settings.update(overrides)
    return LLMConfig(MODEL, **settings)  # type: ignore[arg-type]


def assert_one_line(error: LLMError) -> None:
    text = str(error)
    assert text.startswith(f"LLM {MODEL}")
    assert "\n" not in text and "Traceback" not in text
    assert len(text) < 300


# ---- success -----------------------------------------------------------------------------------


def test_complete_returns_the_reply_and_sends_the_messages_exactly(fake: FakeLLM) -> None:
    fake.reply("Paris is the capital of France [1].")
    answer = complete(MESSAGES, config(fake))
    assert answer == "Paris is the capital of France [1]."
    assert len(fake.requests) == 1
    sent = fake.requests[0]
    assert sent["messages"] == MESSAGES
    assert sent["model"] == "test-model"  # the "openai/" provider prefix is stripped
    assert sent["temperature"] == 0.0
    assert sent["max_tokens"] == 800
    assert not sent.get("stream")
    assert fake.headers[0]["authorization"] == "Bearer sk-no-key"  # dummy key when api_base has none


def test_explicit_api_key_is_sent(fake: FakeLLM) -> None:
    fake.reply("ok")
    complete(MESSAGES, config(fake, api_key="sk-real"))
    assert fake.headers[0]["authorization"] == "Bearer sk-real"


def test_stream_yields_several_deltas_that_join_to_the_reply(fake: FakeLLM) -> None:
    text = "Paris is the capital of France, as the context says [1]."
    fake.reply(text)
    deltas = list(stream(MESSAGES, config(fake)))
    assert len(deltas) >= 2
    assert all(isinstance(d, str) and d for d in deltas)
    assert "".join(deltas) == text
    assert fake.requests[0]["stream"] is True
    assert fake.requests[0]["messages"] == MESSAGES


def test_empty_answer_is_an_error(fake: FakeLLM) -> None:
    fake.reply("")
    with pytest.raises(LLMError) as info:
        complete(MESSAGES, config(fake))
    assert info.value.kind == "unknown"
    assert "empty answer" in str(info.value)
    fake.reply("   ")
    with pytest.raises(LLMError) as info:
        list(stream(MESSAGES, config(fake)))
    assert info.value.kind == "unknown"


# ---- HTTP errors -------------------------------------------------------------------------------

HTTP_FAULTS = [
    (429, "Rate limit reached", None, "rate_limit", "is rate-limited (429)"),
    (500, "boom", None, "server", "server error (500)"),
    (503, "overloaded", None, "server", "server error (503)"),
    (401, "Incorrect API key provided: sk-no-key", None, "auth", "rejected the API key (401)"),
    (403, "forbidden", None, "auth", "rejected the API key (403)"),
    (
        400,
        "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens.",
        "context_length_exceeded",
        "context_length",
        "the prompt is longer than the model's context window",
    ),
    (400, "Invalid value for 'temperature'", None, "bad_request", "rejected the request (400)"),
    (404, "The model `test-model` does not exist", "model_not_found", "bad_request", "rejected the request (404)"),
]


@pytest.mark.parametrize("use_stream", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize(("status", "message", "code", "kind", "phrase"), HTTP_FAULTS, ids=lambda v: str(v)[:12])
def test_http_errors_become_llm_errors(
    fake: FakeLLM, use_stream: bool, status: int, message: str, code: str | None, kind: str, phrase: str
) -> None:
    fake.fail(status, message, code)
    with pytest.raises(LLMError) as info:
        if use_stream:
            list(stream(MESSAGES, config(fake)))
        else:
            complete(MESSAGES, config(fake))
    assert info.value.kind == kind
    assert phrase in str(info.value)
    assert "sk-no-key" not in str(info.value)
    assert_one_line(info.value)
    assert len(fake.requests) == 1  # retries=0: exactly one attempt


def test_unscripted_request_fails_loudly(fake: FakeLLM) -> None:
    with pytest.raises(LLMError) as info:
        complete(MESSAGES, config(fake))
    assert info.value.kind == "server"
    assert "no scripted reply" in str(info.value)


# ---- network faults ----------------------------------------------------------------------------


@pytest.mark.parametrize("use_stream", [False, True], ids=["complete", "stream"])
def test_hang_longer_than_timeout_is_a_timeout(fake: FakeLLM, use_stream: bool) -> None:
    fake.hang(3.0)
    started = time.monotonic()
    with pytest.raises(LLMError) as info:
        if use_stream:
            list(stream(MESSAGES, config(fake, timeout=1.0)))
        else:
            complete(MESSAGES, config(fake, timeout=1.0))
    assert time.monotonic() - started < 2.5
    assert info.value.kind == "timeout"
    assert str(info.value) == f"LLM {MODEL} timed out after 1s"


@pytest.mark.parametrize("use_stream", [False, True], ids=["complete", "stream"])
def test_closed_port_is_a_connection_error(use_stream: bool) -> None:
    url = closed_port_url()
    cfg = LLMConfig(MODEL, api_base=url, timeout=2.0, retries=0)
    with pytest.raises(LLMError) as info:
        if use_stream:
            list(stream(MESSAGES, cfg))
        else:
            complete(MESSAGES, cfg)
    assert info.value.kind == "connection"
    assert str(info.value) == f"LLM {MODEL}: connection refused at the model's server"
    assert url.split("//")[1].split("/")[0] not in str(info.value)  # the notice never shows where the server is


@pytest.mark.parametrize("status", [400, 500])
def test_notices_never_quote_the_api_base_or_the_key(fake: FakeLLM, status: int) -> None:
    key = "sk-operator-secret-4242"
    fake.fail(status, f"upstream {fake.base_url} refused key {key} for this request")
    with pytest.raises(LLMError) as info:
        complete(MESSAGES, config(fake, api_key=key))
    text = str(info.value)
    host = fake.base_url.split("//")[1].split("/")[0]
    assert key not in text and host not in text and "[redacted]" in text
    assert_one_line(info.value)


def test_connection_dropped_mid_stream_raises_after_partial_deltas(fake: FakeLLM) -> None:
    fake.break_stream("Paris is the capital of France, as the context says.")
    received: list[str] = []
    with pytest.raises(LLMError) as info:
        for delta in stream(MESSAGES, config(fake)):
            received.append(delta)
    assert received, "some deltas arrive before the connection drops"
    assert info.value.kind == "connection"
    assert "dropped before the answer was complete" in str(info.value)
    assert_one_line(info.value)


def test_truncated_non_stream_body_is_a_connection_error(fake: FakeLLM) -> None:
    fake.break_stream("never complete")
    with pytest.raises(LLMError) as info:
        complete(MESSAGES, config(fake))
    assert info.value.kind == "connection"
    assert_one_line(info.value)


# ---- retries -----------------------------------------------------------------------------------


def test_retry_recovers_from_a_500(fake: FakeLLM) -> None:
    fake.fail(500, "transient")
    fake.reply("Recovered answer.")
    assert complete(MESSAGES, config(fake, retries=1)) == "Recovered answer."
    assert len(fake.requests) == 2
    assert fake.requests[0]["messages"] == fake.requests[1]["messages"] == MESSAGES


def test_persistent_500_costs_two_n_plus_one_requests(fake: FakeLLM) -> None:
    """litellm quirk: num_retries=N is used by the openai SDK (N retries) and again by litellm's
    wrapper (N more calls), so a persistent 500 with retries=1 is sent 3 times."""
    for _ in range(3):
        fake.fail(500, "still down")
    fake.reply("unused")
    with pytest.raises(LLMError) as info:
        complete(MESSAGES, config(fake, retries=1))
    assert info.value.kind == "server"
    assert len(fake.requests) == 3
    assert fake.pending == 1


def test_no_retry_with_retries_zero(fake: FakeLLM) -> None:
    fake.fail(500, "down")
    fake.reply("unused")
    with pytest.raises(LLMError):
        complete(MESSAGES, config(fake, retries=0))
    assert len(fake.requests) == 1


# ---- misc --------------------------------------------------------------------------------------


def test_failures_print_nothing(fake: FakeLLM, capfd: pytest.CaptureFixture[str]) -> None:
    fake.fail(500, "boom")
    with pytest.raises(LLMError):
        complete(MESSAGES, config(fake))
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_describe() -> None:
    assert describe(LLMConfig("openai/gpt-4o-mini")) == "openai/gpt-4o-mini"
    assert describe(LLMConfig("openai/qwen", api_base="http://localhost:8000/v1")) == "openai/qwen @ localhost:8000"


@pytest.mark.parametrize("bad", [{"model": " "}, {"timeout": 0}, {"retries": -1}])
def test_invalid_config_is_a_config_error(bad: dict[str, object]) -> None:
    settings: dict[str, object] = {"model": MODEL, **bad}
    with pytest.raises(ConfigError):
        LLMConfig(**settings)  # type: ignore[arg-type]


# ---- the whole call within the deadline (issue 11) ------------------------------------------------


def wait_until_idle(fake: FakeLLM, limit: float = 10.0) -> bool:
    """The client hung up: the server's handler saw it and stopped (polls; not a timing assertion)."""
    end = time.monotonic() + limit
    while fake.in_flight and time.monotonic() < end:
        time.sleep(0.05)
    return fake.in_flight == 0


@pytest.mark.parametrize("use_stream", [True, False], ids=["stream", "complete"])
def test_a_keep_alive_trickle_cannot_hold_the_call_past_the_deadline(fake: FakeLLM, use_stream: bool) -> None:
    fake.trickle(60, every=0.1, text="too late")  # a byte every 0.1 s: no read timeout ever fires
    with pytest.raises(LLMError) as info:
        if use_stream:
            list(stream(MESSAGES, config(fake, timeout=1.5)))
        else:
            complete(MESSAGES, config(fake, timeout=1.5))
    assert info.value.kind == "timeout" and "timed out after 1.5s" in str(info.value)
    assert_one_line(info.value)
    assert wait_until_idle(fake)  # the connection was closed, the server is not still trickling


def test_a_reply_dripping_slower_than_the_deadline_is_cut_by_it(fake: FakeLLM) -> None:
    fake.drip("An answer that arrives one character at a time.", every=0.2)
    got: list[str] = []
    with pytest.raises(LLMError) as info:
        for delta in stream(MESSAGES, config(fake, timeout=1.5)):
            got.append(delta)
    assert info.value.kind == "timeout" and 0 < len("".join(got)) < 40
    assert wait_until_idle(fake)


def test_retries_happen_inside_the_deadline(fake: FakeLLM) -> None:
    for _ in range(5):
        fake.fail(500, "overloaded", delay=0.8)  # each attempt fails slowly; retries=2 allows 5 attempts
    with pytest.raises(LLMError) as info:
        complete(MESSAGES, config(fake, timeout=2, retries=2))
    assert info.value.kind == "timeout"
    assert len(fake.requests) < 5  # the deadline ended the retries: at most 2 attempts of 0.8 s fit in 2 s
    while fake.pending:
        fake._pop()


def test_a_runaway_reply_is_cut_at_the_reply_cap(fake: FakeLLM) -> None:
    fake.reply("word " * 20_000)  # 100,000 characters
    reply = stream(MESSAGES, config(fake, max_tokens=500))
    text = "".join(reply)
    assert len(text) == reply.config.reply_cap == 4000
    assert reply.capped and reply.finish_reason == "length"
    fake.reply("word " * 20_000)
    assert len(complete(MESSAGES, config(fake, max_tokens=500))) == 4000


def test_the_finish_reason_is_reported(fake: FakeLLM) -> None:
    fake.reply("Paris is the capital", finish_reason="length")
    reply = stream(MESSAGES, config(fake))
    assert "".join(reply) == "Paris is the capital" and reply.finish_reason == "length" and not reply.capped
    fake.reply("Paris.")
    reply = stream(MESSAGES, config(fake))
    assert "".join(reply) == "Paris." and reply.finish_reason == "stop"


# ---- keys, context size, token counts -------------------------------------------------------------


def test_the_providers_own_key_wins_over_the_placeholder(fake: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    fake.reply("ok")
    complete(MESSAGES, config(fake))
    assert fake.headers[-1]["authorization"] == "Bearer sk-no-key"  # a local server: the placeholder
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    fake.reply("ok")
    complete(MESSAGES, config(fake))
    assert fake.headers[-1]["authorization"] == "Bearer sk-from-the-environment"
    fake.reply("ok")
    complete(MESSAGES, config(fake, api_key="sk-explicit"))
    assert fake.headers[-1]["authorization"] == "Bearer sk-explicit"


def test_ollama_gets_the_context_size(fake: FakeLLM) -> None:
    ollama = LLMConfig("ollama_chat/llama3.1", api_base=fake.base_url.removesuffix("/v1"), timeout=3, retries=0,
                       context_window=16384)
    with pytest.raises(LLMError):  # the scripted server does not speak Ollama's API; the request is what counts
        complete(MESSAGES, ollama)
    path, body = fake.posts[-1]
    assert path == "/api/chat" and body["options"]["num_ctx"] == 16384
    system = body["messages"][0]
    assert system["role"] == "system" and system["content"] == MESSAGES[0]["content"]  # a real system role


def test_tokens_are_counted_and_the_window_known() -> None:
    from rag.generation import DEFAULT_CONTEXT_WINDOW, context_window, count_tokens

    assert 20 < count_tokens(MESSAGES, LLMConfig(MODEL)) < 60
    assert context_window(LLMConfig("openai/gpt-4o-mini")) == 128_000  # litellm's model information
    assert context_window(LLMConfig(MODEL)) == DEFAULT_CONTEXT_WINDOW  # a model litellm does not know
    assert context_window(LLMConfig(MODEL, context_window=4096)) == 4096  # the setting wins
