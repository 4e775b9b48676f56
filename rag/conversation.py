"""Follow-up questions: turning "And who is its president?" into a question that stands alone.

A question that names its subject and leans on nothing (`stands_alone`) is searched as it is: no LLM call.
Otherwise, with an LLM configured, the model rewrites it (see `rag.prompts.REWRITE_*`) and `parse_rewrite`
reads the question out of the reply: reasoning, labels ("Standalone question:", "**Rewritten question:**"),
quotes, preambles ("Sure! Here's..."), numbered options and explanations are dropped, and a reply with no
question in it (an answer instead, or reasoning cut at the token limit) is rejected, so the heuristic below
rewrites it instead. Offline, the heuristic: when the question leans on the conversation (a pronoun, or a
leading "and"/"what about"), the main subject of the previous question (its first proper noun, else its last
noun-like words) replaces the pronoun, or is appended.

Not handled offline: references to anything but the previous question's subject ("the second one", "that year").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.reasoning import strip_reasoning

Turn = dict[str, str]

_POSSESSIVE = re.compile(r"\b(its|their|his|her)\b", re.I)
_SUBJECT = re.compile(r"\b(it|they|them|he|she|him|there|that|this)\b", re.I)
_LEAD = re.compile(r"^\s*(and|but|so|also|then|ok(ay)?|what about|how about)\b[\s,]*", re.I)
_QUESTION_WORDS = {"who", "what", "when", "where", "why", "how", "which", "whom", "whose", "is", "are", "was",
                   "were", "do", "does", "did", "can", "could", "the", "a", "an", "and", "in", "of", "i"}


def normalize_history(history: Sequence[object] | None) -> list[Turn]:
    """Accept OpenAI-style [{"role", "content"}] or [(user, assistant)] pairs; return role/content dicts."""
    turns: list[Turn] = []
    for item in history or []:
        if isinstance(item, dict) and "role" in item and "content" in item:
            content = item["content"]
            if isinstance(content, str) and content.strip():
                turns.append({"role": str(item["role"]), "content": content})
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            user, assistant = item
            if isinstance(user, str) and user.strip():
                turns.append({"role": "user", "content": user})
            if isinstance(assistant, str) and assistant.strip():
                turns.append({"role": "assistant", "content": assistant})
    return turns


def needs_context(question: str) -> bool:
    return bool(_LEAD.match(question) or _POSSESSIVE.search(question) or _SUBJECT.search(question))


def stands_alone(question: str) -> bool:
    """No pronoun or leading "and", and it names something: the conversation cannot change what it asks."""
    words = re.findall(r"[^\W\d_][\w'’-]*", question)
    return not needs_context(question) and any(w[0].isupper() and w.lower() != "i" for w in words[1:])


_LABEL = re.compile(r"^(?:[-*•>#\s]|\d+[.)]\s)*(?:\*\*|__)?\s*(?:(?:standalone|rewritten|reformulated|new|final|"
                    r"revised)\s+)?(?:question|query)\s*(?:\*\*|__)?\s*:\s*(?:\*\*|__)?", re.I)
_ECHO = re.compile(r"^\W*(?:follow-?up|original)\s+question\s*:", re.I)


def parse_rewrite(reply: str) -> str | None:
    """The standalone question in a rewrite reply, or None when the reply holds no question."""
    text, unfinished = strip_reasoning(reply)
    if unfinished:
        return None
    for line in text.splitlines():
        if _ECHO.match(line):
            continue
        line = _LABEL.sub("", line.strip())
        line = re.sub(r"^(?:[-*•>]|\d+[.)])\s+", "", line).strip(" *_`")
        line = line.strip().strip('"“”\'«»').strip()
        if line.endswith("?") and len(line) > 3:
            return " ".join(line.split())
    return None


def subject_of(text: str) -> str | None:
    """The main subject of a question: its first run of capitalised words not at the start, else None."""
    words = re.findall(r"[A-Za-z][\w'’-]*", text)
    runs: list[list[str]] = []
    for i, word in enumerate(words):
        bare = re.sub(r"['’]s$", "", word)
        if bare[:1].isupper() and (i > 0 or bare.lower() not in _QUESTION_WORDS) and bare.lower() != "i":
            if runs and words[i - 1] == runs[-1][-1] and not re.search(r"['’]s$", words[i - 1]):
                runs[-1].append(bare)
            else:
                runs.append([bare])
    return " ".join(runs[0]) if runs else None


def heuristic_rewrite(question: str, history: list[Turn]) -> str:
    """The offline rewrite: substitute the previous question's subject for a pronoun, else append it."""
    previous = [t["content"] for t in history if t["role"] == "user"]
    if not previous or not needs_context(question):
        return question
    subject = subject_of(previous[-1])
    if subject is None:
        return f"{question.rstrip()} ({previous[-1].strip()})"
    rewritten = _LEAD.sub("", question).strip()
    if _POSSESSIVE.search(rewritten):
        rewritten = _POSSESSIVE.sub(f"{subject}'s", rewritten, count=1)
    elif _SUBJECT.search(rewritten):
        rewritten = _SUBJECT.sub(subject, rewritten, count=1)
    else:
        rewritten = f"{rewritten.rstrip('?').rstrip()} {subject}?"
    return rewritten[:1].upper() + rewritten[1:]
