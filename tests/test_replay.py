"""The replay suite: 116 replies in the styles real models write (GPT-4o, Claude, Llama 3, Qwen and DeepSeek-R1
with reasoning blocks, Mistral, small 3B models), each served by the scripted server through real litellm's
streaming path, asserting what the user sees (tests/replay.py holds the corpus and the checks)."""

from __future__ import annotations

import pytest

from fakellm import FakeLLM
from replay import answer_cases, corpus, replay_answerer, run_case

from rag.conversation import parse_rewrite

CASES = answer_cases()
# Known limits of the support check, kept visible: the test fails loudly if one starts passing.
KNOWN_MISSES = {
    "wrong-swapped-name": "a role swap between two names of the same passage (Lukashenko for Makei, both in passage "
                          "1) passes: every name of the claim is in the cited passage, and it reads close to it",
}


@pytest.fixture(scope="module")
def server():
    with FakeLLM() as fake:
        yield fake


@pytest.fixture(scope="module")
def answerers(embedder, server: FakeLLM):
    return {name: replay_answerer(embedder, server.base_url, name) for name in ("seed", "squad")}


def test_the_corpus_covers_every_style_the_issue_names() -> None:
    assert len(CASES) >= 60
    categories = {c["category"] for c in CASES}
    assert categories >= {"refusal", "partial", "reasoning", "citation_style", "wrong_support", "truncation_format"}
    assert sum(c["finish_reason"] == "length" for c in CASES) >= 4
    assert {c["family"] for c in CASES} >= {"gpt-4o", "claude", "llama3", "qwen", "mistral", "small-3b", "deepseek-r1"}


@pytest.mark.parametrize("case", [
    pytest.param(c, marks=pytest.mark.xfail(reason=KNOWN_MISSES[c["id"]], strict=True)) if c["id"] in KNOWN_MISSES
    else c for c in CASES], ids=[c["id"] for c in CASES])
def test_a_real_world_reply_reads_right(case: dict, answerers: dict, server: FakeLLM) -> None:
    result = run_case(case, answerers[case["passage_set"]], server)
    failed = [name for name, ok in result["checks"].items() if not ok]
    answer = result["answer"]
    assert not failed, f"{failed}: shown {answer.text!r}, citations {[c.to_json() for c in answer.citations]}"
    assert server.pending == 0


@pytest.mark.parametrize("case", corpus()["rewrite_cases"], ids=lambda c: c["id"])
def test_a_follow_up_rewrite_reply_gives_the_question_or_nothing(case: dict) -> None:
    assert parse_rewrite(case["reply"]) == case["expect_standalone"]
