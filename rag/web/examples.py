"""Example questions for the chat that fit the loaded corpus.

    example_questions(index, limit=3) -> [question, ...]

From `eval/<corpus name>.jsonl` when there is one (its answerable factoid questions); else from the documents'
own headings: the titles the loaders read from each document (an HTML page's h1, a PDF's title, a Markdown
"# heading", a DOCX "Title" paragraph), taken from the largest documents first (a manual rather than a test
file) and from different folders first. A heading becomes "What is X?" / "What are X?" when it is a short name,
else "Tell me about X."; section numbers ("3.1.2", "Chapter 4") and a page's "name — description" tail are
dropped. A title that reads like a sentence, a file name or a line of code is not used. Not here: the chat itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from rag import DocumentInfo, Index

_NUMBERING = re.compile(r"^(?:(?i:chapter|section|part|appendix)\s{1,3})?"
                        r"(?:\d{1,3}(?:\.\d{1,3}){0,5}\.?|[ivxlcdmIVXLCDM]{1,6}\.|[A-Z]\.)[:)]?\s+")
_NAME_SPLIT = re.compile(r"\s{1,8}[\u2014\u2013:-]\s{1,8}")
_FILE_LIKE = re.compile(r"\.(?:txt|md|html?|pdf|docx?)$|[/\\_{}()<>=;]|^\W", re.I)
_MAX_WORDS = 9


def topic_of(title: str) -> str:
    """The heading as a topic: section numbers dropped, "name — description" reduced to the name when the name
    is one word; "" when the title does not read like a heading."""
    text = " ".join(title.split())
    text = _NUMBERING.sub("", text, count=1) if _NUMBERING.match(text) and len(text.split()) > 1 else text
    parts = _NAME_SPLIT.split(text, maxsplit=1)
    if len(parts) == 2 and len(parts[0].split()) == 1:
        text = parts[0]
    words = text.split()
    if not words or len(words) > _MAX_WORDS or _FILE_LIKE.search(text) or text.endswith((".", ",", ";")):
        return ""
    if not any(c.isalpha() for c in text) or "lorem ipsum" in text.lower():
        return ""
    return text.rstrip("?!: ")


def question_for(topic: str) -> str:
    words = topic.split()
    if len(words) <= 3 and not words[0].lower().endswith("ing"):
        plural = words[-1].endswith("s") and not words[-1].endswith(("ss", "us", "is")) and len(words[-1]) > 3
        article = "the " if len(words) > 1 and all(w[:1].isupper() for w in words) and not plural else ""
        return f"What {'are' if plural else 'is'} {article}{topic}?"
    return f"Tell me about {topic}."


def from_headings(documents: list[DocumentInfo], limit: int) -> list[str]:
    """Questions from the headings of the largest documents, one folder at a time before repeating a folder."""
    ranked = sorted(documents, key=lambda d: (-d.chunks, d.id))
    picked: list[str] = []
    seen_topics: set[str] = set()
    for same_folder_ok in (False, True):
        folders: set[str] = set()
        for doc in ranked:
            folder = doc.id.rsplit("/", 1)[0] if "/" in doc.id else ""
            topic = topic_of(doc.title)
            if not topic or topic.lower() in seen_topics or (folder in folders and not same_folder_ok):
                continue
            folders.add(folder)
            seen_topics.add(topic.lower())
            picked.append(question_for(topic))
            if len(picked) >= limit:
                return picked
    return picked


def example_questions(index: Index, limit: int = 3, project: Path | None = None) -> list[str]:
    """Questions that fit the loaded corpus: from `eval/<corpus name>.jsonl` when there is one, else from the
    documents' headings."""
    corpus = Path(index.settings.corpus)
    for folder in (Path.cwd(), *([project] if project else [])):
        path = folder / "eval" / f"{corpus.stem}.jsonl"
        if path.is_file():
            rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            picked = [r["question"] for r in rows if r.get("answerable") and r.get("kind", "factoid") == "factoid"]
            if picked:
                return picked[:limit]
    return from_headings(index.documents(), limit) or ["What are these documents about?"]
