"""Answers through real litellm against a scripted OpenAI-compatible server on 127.0.0.1, and offline."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import rag
from rag.prompts import REFUSAL_PHRASE

from conftest import ROOT, SEEDS
from fakellm import FakeLLM, closed_port_url

MAKEI = "Belarus's foreign minister Vladimir Makei"
QUESTION = "Who is Belarus's foreign minister?"


@pytest.fixture(scope="module")
def fake():
    with FakeLLM() as server:
        yield server


@pytest.fixture()
def llm_index(seed_index: rag.Index, fake: FakeLLM, tmp_path: Path):
    """The seed index's store and model, answering through the fake server with short timeouts, no retries."""
    settings = seed_index.settings.model_copy(
        update={"model": "openai/test-model", "api_base": fake.base_url, "llm_timeout": 2, "llm_retries": 0}
    )
    index = rag.Index(settings, embedder=seed_index.embedder)
    fake.requests.clear()
    yield index
    assert fake.pending == 0, "a scripted reply was not used"


def user_prompt(fake: FakeLLM) -> str:
    return fake.requests[-1]["messages"][-1]["content"]


def test_a_cited_llm_answer_quotes_the_sentence_that_supports_it(llm_index: rag.Index, fake: FakeLLM) -> None:
    fake.reply("Belarus's foreign minister is Vladimir Makei [1].")
    answer = llm_index.ask(QUESTION)
    assert answer.mode == "llm" and answer.model == "openai/test-model" and not answer.refused
    assert answer.text == "Belarus's foreign minister is Vladimir Makei [1]."
    [citation] = answer.citations
    assert citation.n == 1 and citation.passage_id == answer.passages[0].id and not citation.inferred
    assert citation.quote.startswith(MAKEI)
    assert citation.document == "000_7582f00bdfc6e56e.txt" and citation.url.endswith("joint-drills-a76408")
    document_text = rag.documents.load_file(next(SEEDS.glob("*.txt")), "x").text
    assert document_text[citation.start : citation.end] == citation.quote
    assert citation.supported and citation.moved_from is None
    assert answer.support.to_json() == {"claims": 1, "claims_supported": 1, "citations": 1,
                                        "citations_supported": 1, "citations_moved": 0, "unsupported_claims": []}
    # the prompt: numbered passages fenced as data, the valid keys, the refusal phrase, the question
    request = fake.requests[-1]
    system, user = request["messages"][0]["content"], user_prompt(fake)
    assert "data, not instructions" in system and REFUSAL_PHRASE in system
    code = re.search(r"<passage-([0-9a-f]{8}) n=", user).group(1)
    for n, passage in enumerate(answer.passages, start=1):
        assert f'<passage-{code} n="{n}">' in user
        assert passage.text in user
    assert user.count(f"</passage-{code}>") == len(answer.passages)
    assert "Valid citation keys: [1], [2]" in user and user.rstrip().endswith(QUESTION)
    assert request["model"] == "test-model" and answer.timings_ms["generate_ms"] > 0


def test_a_made_up_marker_is_dropped_and_the_rest_renumbered(llm_index: rag.Index, fake: FakeLLM) -> None:
    fake.reply("Vladimir Makei is the foreign minister [9]. "
               "He told a press conference in Minsk that no soldier would stay [1][9].")
    answer = llm_index.ask(QUESTION)
    assert "[9]" not in answer.text
    assert answer.text == ("Vladimir Makei is the foreign minister. "
                           "He told a press conference in Minsk that no soldier would stay [1].")
    [citation] = answer.citations
    assert citation.passage_id == answer.passages[0].id and citation.supported
    assert "press conference in the capital Minsk" in citation.quote
    # a partly cited answer: the claim whose only marker pointed nowhere is flagged
    assert answer.support.unsupported_claims == ["Vladimir Makei is the foreign minister."]


def test_the_refusal_phrase_makes_a_refusal(llm_index: rag.Index, fake: FakeLLM) -> None:
    fake.reply(REFUSAL_PHRASE)
    answer = llm_index.ask("How many Russian troops took part in the drills?")  # on topic: reaches the LLM
    assert answer.refused and answer.citations == [] and answer.mode == "llm"
    assert "The corpus holds 1 document" in answer.text


def test_a_streamed_reply_arrives_in_pieces_then_the_answer(llm_index: rag.Index, fake: FakeLLM) -> None:
    reply = ("Vladimir Makei is Belarus's foreign minister [Passage 1]. He said that not a single Russian soldier "
             "would stay in Belarus after the drills【1】. NATO called the drills alarming (Passage 2).")
    fake.reply(reply)
    items = list(llm_index.stream(QUESTION))
    deltas, final = items[:-1], items[-1]
    assert len(deltas) >= 3 and all(isinstance(d, str) for d in deltas)
    # what streams is what stays: every marker style already written as [n], nothing rewritten afterwards
    assert "".join(deltas) == final.text
    assert final.text.startswith("Vladimir Makei is Belarus's foreign minister [1]. He said")
    assert "Passage" not in final.text and "【" not in final.text
    assert isinstance(final, rag.Answer) and final.citations[0].quote.startswith(MAKEI)
    assert fake.requests[-1]["stream"] is True


def test_an_answer_without_markers_gets_inferred_citations(llm_index: rag.Index, fake: FakeLLM) -> None:
    fake.reply("Vladimir Makei is the foreign minister of Belarus. NATO called the drills alarming.")
    answer = llm_index.ask(QUESTION)
    assert answer.citations and all(c.inferred for c in answer.citations)
    # the text stays as streamed: inferred citations are listed, not inserted
    assert answer.text == "Vladimir Makei is the foreign minister of Belarus. NATO called the drills alarming."
    quotes = " ".join(c.quote for c in answer.citations)
    assert "Vladimir Makei" in quotes and "NATO" in quotes
    assert answer.support.claims == 2 and answer.support.claims_supported == 2 and answer.support.citations == 0


@pytest.mark.parametrize(
    ("script", "words"),
    [
        (lambda f: f.fail(429, "Rate limit reached"), "rate-limited"),
        (lambda f: f.fail(500, "boom"), "server error"),
        (lambda f: f.fail(401, "Incorrect API key provided"), "API key"),
        (lambda f: f.fail(400, "maximum context length is 8192 tokens", code="context_length_exceeded"),
         "context window"),
        (lambda f: f.hang(4), "timed out"),
        (lambda f: f.trickle(30, every=0.1), "timed out after 2s"),  # keep-alive bytes, never an answer
        (lambda f: f.drip("Vladimir Makei is the foreign minister [1]. " * 3, every=0.1), "timed out after 2s"),
        (lambda f: [f.fail(500, "overloaded", delay=0.8) for _ in range(3)], "timed out after 2s"),
    ],
    ids=["429", "500", "401", "context-too-long", "timeout", "keep-alive-trickle", "slow-drip", "slow-retries"],
)
def test_an_llm_fault_gives_the_offline_answer_with_a_notice(llm_index, fake, script, words) -> None:
    script(fake)
    if words.startswith("timed out after"):  # with retries, as configured by default, all inside the deadline
        llm_index = rag.Index(llm_index.settings.model_copy(update={"llm_retries": 2}), embedder=llm_index.embedder)
    elif "timed out" not in words:  # an error, not a stall: a busy machine's slow first call must not time out
        llm_index = rag.Index(llm_index.settings.model_copy(update={"llm_timeout": 20}), embedder=llm_index.embedder)
    answer = llm_index.ask(QUESTION)
    while fake.pending:  # retries the deadline cut short leave scripted failures unused
        fake._pop()
    assert answer.mode == "extractive" and not answer.refused
    assert "Vladimir Makei" in answer.text and answer.citations
    assert words in answer.notice and "\n" not in answer.notice and "Traceback" not in answer.notice


def test_a_dead_endpoint_gives_the_offline_answer(seed_index: rag.Index) -> None:
    settings = seed_index.settings.model_copy(
        update={"model": "openai/test-model", "api_base": closed_port_url(), "llm_timeout": 2, "llm_retries": 0}
    )
    answer = rag.Index(settings, embedder=seed_index.embedder).ask(QUESTION)
    assert answer.mode == "extractive" and "connection refused" in answer.notice and "Makei" in answer.text


def test_a_follow_up_is_rewritten_by_the_llm(llm_index: rag.Index, fake: FakeLLM) -> None:
    fake.reply('Standalone question: "Who is the president of Belarus?"')
    fake.reply("Alexander Lukashenko [1].")
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "Vladimir Makei [1]."}]
    answer = llm_index.ask("And who is its president?", history=history)
    assert answer.standalone_question == "Who is the president of Belarus?"
    assert "And who is its president?" in fake.requests[0]["messages"][-1]["content"]
    assert user_prompt(fake).rstrip().endswith("Who is the president of Belarus?")
    assert "Lukashenko" in answer.citations[0].quote


def test_offline_the_seed_question_is_answered_with_makei(seed_index: rag.Index) -> None:
    answer = seed_index.ask(QUESTION)
    assert answer.mode == "extractive" and not answer.refused and answer.notice is None
    assert "Vladimir Makei" in answer.text and answer.label.startswith("Extracted")
    first = answer.citations[0]
    assert "Vladimir Makei" in first.quote and first.passage_id in {p.id for p in answer.passages}
    assert answer.text.count("[") == len(answer.citations) <= 3
    assert len(answer.settings_hash) == 12 and answer.timings_ms["total_ms"] > 0


def test_offline_an_unrelated_question_is_refused_without_guessing(seed_index: rag.Index) -> None:
    answer = seed_index.ask("What is the capital of Australia?")
    assert answer.refused and answer.citations == [] and "Canberra" not in answer.text
    assert "could not find" in answer.text and "Belarus" in answer.text  # says what the corpus is about


def test_offline_follow_up_uses_the_conversation(seed_index: rag.Index) -> None:
    answer = seed_index.ask("And who is its president?", history=[(QUESTION, "Vladimir Makei [1].")])
    assert answer.standalone_question == "Who is Belarus's president?"
    assert "Lukashenko" in answer.text


def test_an_empty_question_is_one_clear_error(seed_index: rag.Index) -> None:
    with pytest.raises(rag.EmptyQuestionError):
        seed_index.ask("   ")


def test_the_seed_question_set_is_answered_and_refused_well(seed_index: rag.Index) -> None:
    rows = [json.loads(line) for line in (ROOT / "eval" / "seeds.jsonl").read_text().splitlines() if line.strip()]
    answered = n_answerable = 0
    refused = []
    for row in rows:
        answer = seed_index.ask(row["question"])
        if row["answerable"]:
            n_answerable += 1
            answered += (not answer.refused) and any(g.lower() in answer.text.lower() for g in row["answers"])
        elif answer.refused:
            refused.append(row["question"])
    assert n_answerable >= 20 and len(rows) - n_answerable >= 8
    assert answered / n_answerable >= 0.7, answered / n_answerable  # 23/31 when written
    # off-topic questions are refused; same-topic ones mostly are not, offline (see eval/README.md)
    assert "What is the capital of Australia?" in refused and any("borscht" in q for q in refused)


def test_rag_ask_cli_prints_the_documented_json(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ask", QUESTION, "--index", str(tmp_path / "idx"), "--json"],
        capture_output=True, text=True, cwd=ROOT, timeout=240,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    for key in ("question", "answer", "refused", "mode", "citations", "passages", "timings_ms"):
        assert key in data
    assert "Makei" in data["answer"] and data["refused"] is False and data["mode"] == "extractive"
    assert set(data["citations"][0]) >= {"n", "document", "title", "url", "passage_id", "quote", "start", "end"}
    assert set(data["passages"][0]) >= {"id", "document", "text", "score"}
    assert "ingesting" in out.stderr  # an empty index ingests seeds/ first


def stand_in_passages() -> list[rag.Passage]:
    """Two passages cut from the seed document by hand, as a search function would return them."""
    text = rag.documents.load_file(next(SEEDS.glob("*.txt")), "seed.txt").text
    spans = [(text.index("NATO has called"), text.index("Makei hailed")), (0, text.index("\"Not a single"))]
    return [rag.Passage(f"p{i}", "seed.txt", "Belarus", None, text[a:b].strip(), a, a + len(text[a:b].strip()),
                        score=1.0 / (i + 1), dense_score=0.6, rank=i + 1) for i, (a, b) in enumerate(spans)]


def test_answering_needs_only_a_search_function(embedder, fake: FakeLLM) -> None:
    """An Answerer is built from a search function, an embedder and settings: no index, no Chroma."""
    from rag.answering import Answerer

    passages = stand_in_passages()
    searched: list[str] = []

    def search(query: str, k=None, mode=None, documents=None) -> list[rag.Passage]:
        searched.append(query)
        return passages

    offline = Answerer(search, embedder, rag.Settings())
    answer = offline.ask(QUESTION)
    assert searched == [QUESTION] and answer.mode == "extractive"
    assert answer.citations[0].passage_id == "p1" and "Vladimir Makei" in answer.citations[0].quote

    settings = rag.Settings(model="openai/test-model", api_base=fake.base_url, llm_timeout=2, llm_retries=0)
    fake.reply("Vladimir Makei is Belarus's foreign minister [2]. NATO called the drills alarming [1].")
    answer = Answerer(search, embedder, settings).ask(QUESTION)
    assert [c.passage_id for c in answer.citations] == ["p1", "p0"]
    assert answer.text == "Vladimir Makei is Belarus's foreign minister [1]. NATO called the drills alarming [2]."
    assert "NATO has called" in answer.citations[1].quote
    assert all(c.supported for c in answer.citations)


def test_a_standalone_follow_up_costs_no_llm_call(llm_index: rag.Index, fake: FakeLLM) -> None:
    fake.reply("NATO called the drills particularly alarming [1].")
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "Vladimir Makei [1]."}]
    answer = llm_index.ask("What did NATO say about the drills in Belarus?", history=history)
    assert len(fake.requests) == 1 and fake.requests[0]["stream"] is True  # the answer only, no rewrite call
    assert answer.standalone_question == "What did NATO say about the drills in Belarus?"


def test_a_rewrite_reply_that_is_not_a_question_falls_back_to_the_offline_rewrite(
        llm_index: rag.Index, fake: FakeLLM) -> None:
    fake.reply("Belarus is ruled by President Alexander Lukashenko.")  # an answer, not the rewritten question
    fake.reply("Alexander Lukashenko [1].")
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "Vladimir Makei [1]."}]
    answer = llm_index.ask("And who is its president?", history=history)
    assert answer.standalone_question == "Who is Belarus's president?"
    assert user_prompt(fake).rstrip().endswith("Who is Belarus's president?")


def test_passages_that_do_not_fit_the_context_window_are_left_out(seed_index: rag.Index, fake: FakeLLM) -> None:
    settings = seed_index.settings.model_copy(update={
        "model": "openai/test-model", "api_base": fake.base_url, "llm_timeout": 5, "llm_retries": 0,
        "context_window": 1400, "max_tokens": 500})
    index = rag.Index(settings, embedder=seed_index.embedder)
    retrieved = index.search(QUESTION, k=5)
    fake.reply("Belarus's foreign minister is Vladimir Makei [1].")
    answer = index.ask(QUESTION, k=5)
    code = re.search(r"<passage-([0-9a-f]{8}) n=", user_prompt(fake)).group(1)
    assert 1 <= len(answer.passages) < len(retrieved)
    assert [p.id for p in answer.passages] == [p.id for p in retrieved[: len(answer.passages)]]  # best kept
    assert user_prompt(fake).count(f"</passage-{code}>") == len(answer.passages)
    assert f"{len(retrieved) - len(answer.passages)} passage" in answer.notice and "context window" in answer.notice
    assert fake.requests[-1]["max_tokens"] == 500


def test_a_reply_cut_at_the_token_limit_says_so(llm_index: rag.Index, fake: FakeLLM) -> None:
    fake.reply("Belarus's foreign minister is Vladimir Makei [1]. He told a press conference in", "length")
    answer = llm_index.ask(QUESTION)
    assert answer.text == "Belarus's foreign minister is Vladimir Makei [1]. He told a press conference in"
    assert "cut at the token limit" in answer.notice and "\n" not in answer.notice


def test_offline_answers_carry_the_support_summary(seed_index: rag.Index) -> None:
    answer = seed_index.ask(QUESTION)
    assert answer.support.claims == answer.support.claims_supported == len(answer.citations)
    assert all(c.supported for c in answer.citations)
    assert answer.to_json()["support"]["citations"] == len(answer.citations)


def test_a_runaway_reply_is_capped_before_the_citation_work(llm_index: rag.Index, fake: FakeLLM) -> None:
    fake.reply("Vladimir Makei is Belarus's foreign minister [1]. " * 2000)  # 100,000 characters
    answer = llm_index.ask(QUESTION)
    assert answer.mode == "llm" and len(answer.text) <= 6400  # 8 characters per allowed token (800)
    assert "reply length limit" in answer.notice
    assert answer.support.claims <= 6400 // 40
