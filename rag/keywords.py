"""What the BM25 side searches for a question: the question less the words that ask rather than describe ("what",
"did", "how many", "what type of"), which BM25 would otherwise reward a passage for holding. The dense side and the
answerer read the whole question; this module only rewrites the lexical query (rag.retrieval calls it).

A question word goes when it asks: in lower case, or capitalised as the first word of a sentence (of the query, or
after ". ", "? ", ": ", a list number), or anywhere in a query written all in capitals. A capitalised one elsewhere is
part of a name and stays ("The Who", "Doctor Who"). Some words ask only in a phrase and stay elsewhere: "many" and
"much" after "how", "type" and "kind" after "what" or "which", "name" after "what" or in "the name of", "called" as
the question's last word ("type 2 diabetes", "the kind one" and "many-worlds" keep theirs). When nothing the index
would search is left, the whole question is searched.

Not here: the index's own tokenisation, stopwords and stemming (rag.lexical).
"""

from __future__ import annotations

import re

from rag.lexical import tokenize

# chosen on the SQuAD dev split (eval/README.md, "Question words left out of the BM25 side")
QUESTION_WORDS = frozenset((
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "did", "does", "do", "was", "were",
    "is", "are", "has", "have", "had",
))
_AFTER = {  # word -> the words it asks after
    "many": ("how",), "much": ("how",), "type": ("what", "which"), "types": ("what", "which"),
    "kind": ("what", "which"), "kinds": ("what", "which"), "name": ("what",),
}
_WORD = re.compile(r"\w+")
_ENDS = frozenset(".?!:;\n")  # after one of these (or a list number's "1." / "1)"), a word starts a sentence


def keywords(query: str) -> str:
    """`query` less its question words (as the module docstring says), or `query` when nothing searchable is left."""
    words = list(_WORD.finditer(query))
    shouting = not any(c.islower() for c in query)
    dropped = []
    for i, m in enumerate(words):
        word, lower = m.group(), m.group().lower()
        before = words[i - 1].group().lower() if i else ""
        asks = (lower in QUESTION_WORDS or before in _AFTER.get(lower, ())
                or (lower == "name" and before == "the" and i + 1 < len(words) and words[i + 1].group() == "of")
                or (lower == "called" and i == len(words) - 1))
        gap = query[words[i - 1].end():m.start()] if i else ""
        first = i == 0 or any(c in _ENDS for c in gap) or gap[:1] == ")"
        if asks and (word.islower() or shouting or first):
            dropped.append(m)
    if not dropped:
        return query
    parts, last = [], 0
    for m in dropped:
        parts.append(query[last:m.start()])
        last = m.end()
    kept = "".join(parts) + query[last:]
    return kept if tokenize([kept])[0] else query
