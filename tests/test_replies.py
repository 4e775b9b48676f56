"""Reading replies (rag.replies, rag.markers, rag.reasoning, rag.refusals): pure text, no model. The replay suite
checks the same code end to end; these pin the rules one by one and the streaming invariant."""

from __future__ import annotations

import random

import pytest

from rag.reasoning import ReasoningFilter, strip_reasoning
from rag.refusals import opens_with_refusal, says_not_found
from rag.replies import Cite, Piece, ReplyReader, Text, normalize

from replay import answer_cases


def merged(pieces: list[Piece]) -> list[Piece]:
    """Adjacent text pieces joined (how text is cut into pieces follows the deltas; nothing else may)."""
    out: list[Piece] = []
    for piece in pieces:
        if out and isinstance(piece, Text) and isinstance(out[-1], Text):
            out[-1] = Text(out[-1].text + piece.text)
        else:
            out.append(piece)
    return out


def shown(reply: str, n: int = 5, truncated: bool = False) -> str:
    return normalize(reply, n, truncated)[0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_any_split_of_a_reply_gives_the_same_pieces_as_the_whole(seed: int) -> None:
    """What streams is what stays: pieces are final when returned, however the reply is cut into deltas."""
    rng = random.Random(seed)
    for case in answer_cases():
        reply, truncated = case["reply"], case["finish_reason"] == "length"
        whole = ReplyReader(5)
        expected = whole.feed(reply) + whole.close(truncated)
        reader, got, i = ReplyReader(5), [], 0
        while i < len(reply):
            step = rng.randint(1, 8)
            got += reader.feed(reply[i:i + step])
            i += step
        got += reader.close(truncated)
        assert merged(got) == merged(expected), case["id"]
        assert (reader.refused, reader.partial, reader.listed) == (whole.refused, whole.partial, whole.listed)


def test_citation_styles_become_one_marker_each() -> None:
    assert shown("Rollo led them [Passage 1] and signed it (Source 4).") == "Rollo led them [1] and signed it [4]."
    assert shown("It began in 911.⁴ It ended¹˒³.") == "It began in 911 [4]. It ended [1, 3]."
    assert shown("A claim [1][3] and another [2-4].") == "A claim [1, 3] and another [2, 3, 4]."
    assert shown("True 【2†source】, false 【4:0†source】.") == "True [2], false."
    assert shown("Made up [7] and zero [0].") == "Made up and zero."
    assert shown("Normandy is in France. [1]") == "Normandy is in France [1]."
    # a parenthesised number is a marker only where a marker goes, not an enumeration
    assert shown("Steps: (1) open, (2) close.") == "Steps: (1) open, (2) close."
    assert shown("The year (1994) is not a marker, this is (2).") == "The year (1994) is not a marker, this is [2]."


def test_footnotes_and_source_lists_map_and_disappear() -> None:
    text, reader = normalize("It began in 911.[^1]\n\n[^1]: Passage 4 says so", 5)
    assert text == "It began in 911 [4]." and not reader.listed
    text, reader = normalize("It began in 911.\n\n**Sources:**\n1. Passage 2 (Normans)\n2. Passage 5", 5)
    assert text == "It began in 911." and reader.listed == [2, 5]
    text, reader = normalize("It began in 911 [1].\n\nReferences:\n[1] Passage 3: quote", 5)
    assert text == "It began in 911 [1]." and reader.listed == [3]


def test_each_marker_carries_its_own_claim() -> None:
    reader = ReplyReader(5)
    pieces = reader.feed("Makei spoke in Minsk [1], and NATO was alarmed [2]. According to passage [3], "
                         "nobody wants war.") + reader.close()
    claims = [(p.passages, p.claim) for p in pieces if isinstance(p, Cite)]
    assert claims == [((1,), "Makei spoke in Minsk"), ((2,), "and NATO was alarmed"), ((3,), "nobody wants war.")]


def test_a_reply_cut_at_the_token_limit_drops_its_half_marker() -> None:
    assert shown("Makei spoke [1]. NATO was alarmed [", truncated=True) == "Makei spoke [1]. NATO was alarmed"
    assert shown("Makei spoke (Passa", truncated=True) == "Makei spoke"


def test_reasoning_is_never_shown() -> None:
    assert strip_reasoning("<think>Let me see [1].</think>\n\nRollo [4].") == ("Rollo [4].", False)
    assert strip_reasoning("Okay, so the user asks X.\n</think>\n\nRollo [4].") == ("Rollo [4].", False)
    assert strip_reasoning("<think>The passages say") == ("", True)
    assert strip_reasoning("<answer>\nRollo [4].\n</answer>") == ("Rollo [4].", False)
    streamed = ReasoningFilter()
    parts = [streamed.feed(c) for c in ["<thi", "nk>plan", "ning</th", "ink>The ", "answer."]] + [streamed.close()]
    assert "".join(parts) == "The answer." and parts[0] == parts[1] == parts[2] == ""


@pytest.mark.parametrize("reply", [
    "The documents do not contain the answer to this question.",
    "The provided passages do not contain information about the population.",
    "I'm sorry, but I couldn't find that in the documents.",
    "Unfortunately, the passages don't say how many troops took part.",
    "There is no information about the cost of the drills in the passages [2].",
    "**Answer:** The provided context does not contain information about it.",
    "Les documents ne contiennent pas la réponse à cette question.",
    "Leider enthalten die bereitgestellten Passagen keine Informationen darüber.",
    "Lo siento, pero los pasajes proporcionados no mencionan eso.",
    "The passages mention the maneuvers, but they do not say how many soldiers took part.",
])
def test_refusals_are_recognised_by_what_they_say(reply: str) -> None:
    assert opens_with_refusal(reply)
    text, reader = normalize(reply + " Passage 2 talks about NATO [2].", 5)
    assert reader.refused and text == ""


@pytest.mark.parametrize("reply", [
    "No. Makei said that not a single Russian soldier will stay [1].",
    "The document says the drills ended [2].",
    "Makei did not say when the drills end [1].",
    "Unfortunately for Kyiv, the drills were massive [1].",
    "Die Soldaten bleiben nicht in Belarus [1].",
])
def test_answers_with_a_negation_are_not_refusals(reply: str) -> None:
    assert not opens_with_refusal(reply) and not normalize(reply, 5)[1].refused


def test_a_partial_answer_is_an_answer_marked_partial() -> None:
    text, reader = normalize("Makei is the minister [1], but the documents do not say since when.", 5)
    assert not reader.refused and reader.partial and text.startswith("Makei is the minister [1]")
    assert says_not_found("The passages only give the year, 911, and do not specify the date")
    assert not says_not_found("The passages describe the drills, which do not include Ukraine")
