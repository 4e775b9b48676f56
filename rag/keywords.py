"""What the BM25 side searches for a question: the question less the words that ask rather than describe ("what",
"did", "how many", "what type of"), which BM25 would otherwise reward a passage for holding. The dense side and the
answerer read the whole question; this module only rewrites the lexical query (rag.retrieval calls it).

A question word goes when it asks: in lower case, or capitalised as the first word of a sentence (the query's first,
or after ".", "?", "!", ":", ";", a new line or a list number's ")"), or anywhere in a query written all in capitals.
Elsewhere a capitalised word is part of a name and stays ("The Who", "Doctor Who"), and so does an acronym ("WHO
declared ..."), a word after an abbreviation's full stop ("Dr. Who") and a word joined by a hyphen ("how-to",
"do-it-yourself"). Some words ask only in a phrase and stay elsewhere: "many" and "much" after "how"; "type(s)"
and "kind(s)" between "what" or "which" and "of"; "name" after "what" or in "the name of"; "called" as the question's
last word ("type 2 diabetes", "what type 2 drug", "the kind one" keep theirs). When nothing the index would search is
left ("What is it?"), the whole question is searched.

What it cannot tell: a title that opens the question ("Who Framed Roger Rabbit was released when?") and a name
typed in lower case ("doctor who") lose their question word.

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
_PHRASES = {  # word -> (the words it asks after, the word it asks before or None)
    "many": (("how",), None), "much": (("how",), None), "name": (("what",), None),
    **{w: (("what", "which"), "of") for w in ("type", "types", "kind", "kinds")},
}
_WORD = re.compile(r"\w+")
_ENDS = frozenset(".?!:;\n)")  # after one of these a word starts a sentence (but see _abbreviation)


def _abbreviation(word: str) -> bool:
    """A word whose full stop does not end a sentence: "Dr", "St", "U" (of "U.S.")."""
    return word[:1].isupper() and len(word) <= 3 and not word.isdigit()


def keywords(query: str) -> str:
    """`query` less its question words (as the module docstring says), or `query` when nothing searchable is left."""
    words = list(_WORD.finditer(query))
    shouting = not any(c.islower() for c in query)
    dropped = []
    for i, m in enumerate(words):
        word, lower = m.group(), m.group().lower()
        before = words[i - 1].group().lower() if i else ""
        after = words[i + 1].group().lower() if i + 1 < len(words) else ""
        befores, needed = _PHRASES.get(lower, ((), None))
        asks = (lower in QUESTION_WORDS or (before in befores and needed in (None, after))
                or (lower == "name" and before == "the" and after == "of")
                or (lower == "called" and i == len(words) - 1))
        if not asks or "-" in (query[m.start() - 1:m.start()], query[m.end():m.end() + 1]):
            continue
        gap = query[words[i - 1].end():m.start()] if i else ""
        first = i == 0 or (any(c in _ENDS for c in gap) and not (gap.lstrip()[:1] == "." and _abbreviation(
            words[i - 1].group())))
        acronym = word.isupper() and len(word) > 1 and not shouting
        if word.islower() or shouting or (first and not acronym):
            dropped.append(m)
    if not dropped:
        return query
    parts, last = [], 0
    for m in dropped:
        parts.append(query[last:m.start()])
        last = m.end()
    kept = "".join(parts) + query[last:]
    return kept if tokenize([kept])[0] else query
