"""Streaming to a client that cannot take text back: deltas renumbered as they go end as the final answer's text."""

from __future__ import annotations

from pathlib import Path

import rag
from rag.citations import parse
from rag.types import Answer
from rag.web.relay import MarkerRelay

from conftest import SEEDS
from fakellm import FakeLLM

RAW = "Vladimir Makei [3] is Belarus's foreign minister [9][3, 1]. Lukashenko [1-2] rules it [4]."


def answer(text: str, notice: str | None = None) -> Answer:
    return Answer("q", text, [], [], False, "llm", notice=notice)


def relay_all(pieces: list[str], final: Answer, n: int = 4) -> str:
    relay = MarkerRelay(n)
    return "".join(relay.feed(p) for p in pieces) + relay.finish(final)


def test_every_split_of_the_stream_gives_the_final_text() -> None:
    final = parse(RAW, 4).text
    assert final == "Vladimir Makei [1] is Belarus's foreign minister [1, 2]. Lukashenko [2, 3] rules it [4]."
    for i in range(len(RAW) + 1):
        for j in range(i, len(RAW) + 1, 7):
            relay = MarkerRelay(4)
            sent = [relay.feed(p) for p in (RAW[:i], RAW[i:j], RAW[j:])]
            assert "".join(sent) == final, (i, j)
            assert relay.finish(answer(final)) == ""


def test_an_open_marker_is_held_until_it_closes() -> None:
    relay = MarkerRelay(4)
    assert relay.feed("Makei [") == "Makei"
    assert relay.feed("3") == ""
    assert relay.feed("] is minister.") == " [1] is minister."
    assert relay.feed(" See [Wikipedia]") == " See [Wikipedia]"  # not a marker: not held


def test_what_streaming_could_not_know_is_settled_at_the_end() -> None:
    # the engine added the text of a refusal's hint
    assert relay_all(["The documents do not contain ", "the answer."], answer(
        "The documents do not contain the answer. The corpus holds 1 document.")) == (
        "The documents do not contain the answer. The corpus holds 1 document.")
    # markers inferred after the stream: the client keeps the clean text, the citations come in the last chunk
    assert relay_all(["Makei is ", "the minister."], answer("Makei is the minister [1].")) == "Makei is the minister."
    # the LLM failed mid-stream: the offline answer follows, with the notice saying why
    shown = relay_all(["Makei is"], answer("Vladimir Makei is foreign minister. [1]", notice="timed out"))
    assert shown == "Makei is\n\n(timed out)\n\nVladimir Makei is foreign minister. [1]"


def test_a_real_llm_stream_through_the_engine_arrives_renumbered(tmp_path: Path, embedder) -> None:
    with FakeLLM() as fake:
        index = rag.open_index(tmp_path / "idx", embedder=embedder, model="openai/test-model",
                               api_base=fake.base_url, llm_retries=0)
        index.ingest(SEEDS, progress=False)
        fake.reply("Vladimir Makei [3] is Belarus's foreign minister [9].")
        relay = MarkerRelay(sum(d.chunks for d in index.documents()))
        shown = ""
        for item in index.stream("Who is Belarus's foreign minister?"):
            shown += relay.finish(item) if isinstance(item, Answer) else relay.feed(item)
            final = item
    assert isinstance(final, Answer) and final.mode == "llm"
    assert shown == final.text == "Vladimir Makei [1] is Belarus's foreign minister."
    assert [c.n for c in final.citations] == [1]
