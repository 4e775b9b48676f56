"""The OpenAI-compatible API (/v1), driven by the real `openai` Python client against the running app (with a key)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import openai
import pytest

QUESTION = "Who is Belarus's foreign minister?"
SEED_DOCUMENT = "000_7582f00bdfc6e56e.txt"


@pytest.fixture(scope="module")
def client(keyed_app: tuple[str, str]) -> openai.OpenAI:
    url, key = keyed_app
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=120)


def markers(text: str) -> set[int]:
    return {int(n) for group in re.findall(r"\[([\d, ]+)\]", text) for n in group.split(",")}


def test_models_name_the_corpus(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["rag", "seeds"]


def test_a_non_streamed_answer_carries_markers_and_its_citations(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": QUESTION}])
    text = response.choices[0].message.content
    assert "Makei" in text and response.choices[0].finish_reason == "stop"
    citations = response.citations  # the documented extra field
    assert markers(text) == {c["n"] for c in citations} and citations[0]["n"] == 1
    first = citations[0]
    assert first["document"] == SEED_DOCUMENT and "Vladimir Makei" in first["quote"]
    assert first["url"].startswith("https://www.themoscowtimes.com/") and first["title"]
    assert 0 <= first["start"] < first["end"] and first["end"] - first["start"] == len(first["quote"])
    assert response.rag["refused"] is False and response.rag["answer"] == text
    assert response.rag["label"] == "Extracted from the documents (offline, no LLM)"


def test_a_streamed_answer_ends_with_the_citations(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(
        model="seeds", messages=[{"role": "user", "content": QUESTION}], stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "Makei" in text and len(chunks) >= 3
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop" and final.model == "seeds"
    assert all(getattr(c, "citations", None) is None for c in chunks[:-1])
    assert markers(text) == {c["n"] for c in final.citations}
    assert "Vladimir Makei" in final.citations[0]["quote"] and final.citations[0]["document"] == SEED_DOCUMENT
    assert final.rag["answer"] == text  # what a client shows is the final text, markers and all


def test_earlier_turns_are_the_history(client: openai.OpenAI) -> None:
    first = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": QUESTION}])
    follow = client.chat.completions.create(model="rag", messages=[
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": [{"type": "text", "text": "And who is its president?"}]},
    ])
    assert follow.rag["standalone_question"] == "Who is Belarus's president?"
    assert "Lukashenko" in follow.choices[0].message.content


def test_a_question_the_corpus_cannot_answer_is_refused_without_citations(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(
        model="rag", messages=[{"role": "user", "content": "What is the capital of Australia?"}])
    assert response.rag["refused"] is True and response.citations == []
    assert "could not find" in response.choices[0].message.content


def test_a_wrong_key_is_rejected(keyed_app: tuple[str, str]) -> None:
    url, _ = keyed_app
    wrong = openai.OpenAI(base_url=f"{url}/v1", api_key="not-the-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        wrong.chat.completions.create(model="rag", messages=[{"role": "user", "content": QUESTION}])
    assert caught.value.status_code == 401
    assert caught.value.body == {"message": "wrong key: this is not the server's RAG_SERVER_KEY",
                                 "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()


@pytest.mark.parametrize("stream", [False, True])
def test_an_empty_question_is_an_openai_400(client: openai.OpenAI, stream: bool) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="rag", messages=[{"role": "user", "content": "  "}], stream=stream)
    assert caught.value.status_code == 400
    assert caught.value.body == {"message": "The question is empty: type a question to ask.",
                                 "type": "invalid_request_error", "param": "messages", "code": "empty_question"}


@pytest.mark.parametrize("stream", [False, True])
def test_a_question_or_history_over_the_limits_is_an_openai_400(client: openai.OpenAI, stream: bool) -> None:
    long = "Who is Belarus's foreign minister? " * 150  # 5,250 characters; the limit is 4,000
    for messages in ([{"role": "user", "content": long}],
                     [{"role": "user", "content": "Hello? " * 600}, {"role": "assistant", "content": "x" * 3900}] * 6
                     + [{"role": "user", "content": QUESTION}]):
        with pytest.raises(openai.BadRequestError) as caught:
            client.chat.completions.create(model="rag", messages=messages, stream=stream)
        assert caught.value.body["code"] == "context_length_exceeded" and caught.value.body["param"] == "messages"
        assert "too long" in caught.value.body["message"]


def test_other_bad_requests_get_openai_errors(client: openai.OpenAI, keyed_app: tuple[str, str]) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    assert caught.value.body["code"] == "model_not_found" and caught.value.body["param"] == "model"
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="rag", messages=[{"role": "assistant", "content": "Hello."}])
    assert "last message must be the user's question" in caught.value.body["message"]

    url, key = keyed_app
    auth = {"Authorization": f"Bearer {key}"}
    for body, param in ((b"{not json", None), (b'{"model": "rag", "messages": []}', "messages"),
                        (b'{"model": "rag", "messages": [{"content": "hi"}]}', "messages.0.role")):
        response = httpx.post(f"{url}/v1/chat/completions", content=body, timeout=30,
                              headers={**auth, "content-type": "application/json"})
        assert response.status_code == 400
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"} and error["param"] == param
        assert error["type"] == "invalid_request_error" and "\n" not in error["message"]


def test_the_readme_example_runs_as_written(keyed_app: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    url, key = keyed_app
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = readme.split("<!-- openai-example -->")[1].split("```python")[1].split("```")[0]
    assert len(block.strip().splitlines()) == 5 and 'base_url="http://127.0.0.1:7860/v1"' in block
    block = block.replace("http://127.0.0.1:7860", url).replace('api_key="none"', f"api_key={key!r}")
    exec(compile(block, "README.md", "exec"), {})  # noqa: S102 - the README's own example
    answer, quote = capsys.readouterr().out.splitlines()[:2]
    assert "Makei" in answer and "[1]" in answer and "Vladimir Makei" in quote
