"""Offline signs that the retrieved passages do not answer a question that sounds answerable (pure: no model).

Questions written to look answerable from a text (SQuAD v2's unanswerable ones, or a user's question about a
detail the corpus lacks) usually change one thing in a sentence of the text. Three such changes are cheap to see:

    missing_terms(question, passages)    a name or figure of the question that no passage mentions
                                          ("Who led Issacs troops ...?" when no passage has "Issacs"), and, given
                                          the corpus's vocabulary, that no chunk beside the question's other
                                          names holds (nor, for a figure, the passages' own documents); an abbreviation
                                          (TV, MVP, WWII), a name one typo away from a passage word ("Carslbad" /
                                          "Carlsbad"), written with another dash, or as one word ("Superbowl")
                                          does not count
    lost_negation(question, sentences)   the question asks about what is NOT so, the closest sentences say nothing
                                          negative ("What is usually not stated using big O?")
    flipped_word(question, sentence)     the closest sentence has the opposite of a question word, by prefix
                                          ("informal" / "formal", "decrease" / "increase", "unequal" / "equal"),
                                          and no form of the question word itself ("ruled an incompletion")

Each returns the words that show it, for a refusal that says why; empty when there is no such sign.
Measured on SQuAD v2 (eval/README.md). Not handled: swapped synonyms or antonyms without a shared stem
(perpendicular / parallel), changed numbers that appear elsewhere in the passages, other languages.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

from rag.lexical import tokenize
from rag.types import Passage

_TERM = re.compile(r"[^\W\d_][\w'’-]*|\d[\d,.]*\d|\d")
_WORD = re.compile(r"[a-z][a-z'’-]+")
_PLAIN = re.compile(r"\w+")
_HYPHENATED = re.compile(r"\b\w+(?:-\w+)+")
_SPACED_PAIR = re.compile(r"\b(\w+) +(?=(\w+))")  # two words with only spaces between them
_ABBREVIATION = re.compile(r"^[A-Z][A-Z0-9]{1,5}s?$")  # TV, MVP, QB, WWII, NFL: passages may spell them out
_TYPO_MIN = 5  # names this long or longer match a passage word one edit away
_NEGATION = re.compile(r"\b(?:not|never|no|none|nor|cannot|without|neither)\b|n['’]t\b", re.I)
_NOT_A_NEGATION = re.compile(r"\b(?:whether or not|or not|if not|not only|no longer|no matter)\b", re.I)
_PREFIXES = ("counter", "anti", "dis", "non", "mis", "un", "in", "im", "il", "ir", "de")
_FUNCTION_WORDS = frozenset(
    "what who whom whose when where why how which whether the a an in on of for to from by with at as and or but "
    "is was were are be been do does did has have had can could would should will may might must shall i according "
    "other than despite besides after before during since about apart instead following given if".split()
)


_UNDECOMPOSED = str.maketrans({  # letters NFKD leaves whole, and dashes: "Skłodowska" / "Sklodowska", "–" / "-"
    "ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i", "’": "'",
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-",
})


def fold(text: str) -> str:
    """Lower case without accents, one kind of dash: "Hervé" and "Herve", "Polish–Lithuanian" and
    "Polish-Lithuanian" match."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_UNDECOMPOSED)


Known = Callable[[str, list[str], list[str]], bool]  # (word, the question's other names, documents) -> held by
# a chunk of those documents, or by one chunk of the corpus with one of those names


def missing_terms(question: str, passages: Iterable[Passage], known: Known | None = None) -> list[str]:
    """The names (capitalised words past the question's first) and figures of `question` that no passage
    mentions, compared without case or accents, and by their stem for long words (all but the last 3 letters).
    With `known` (whether some chunk of the corpus holds the word together with one of the question's other
    names and figures, or at all when it has none; for a figure, also whether some chunk of the passages' own
    documents holds it), only those the corpus does not hold so: a name held with the question's other names
    (a multi-hop question's bridge fact) or a figure held by the passages' documents (a season year a long
    document states once, in its first chunk) usually means retrieval found part of the evidence; a name held only
    far from them ("Cup" in "Who won the 2018 FIFA World Cup?", in a corpus of software manuals, even in a
    retrieved manual) still refuses."""
    passages = list(passages)
    text = fold(" ".join(p.text for p in passages))
    documents = sorted({p.document for p in passages})
    words: _Words | None = None
    names = _names_and_figures(question)
    missing = []
    for word, bare, figure in names:
        key = fold(bare)
        if figure:
            stem = key[:-1] if word.endswith("0") and re.search(rf"\b{re.escape(word)}['’]?s\b", question) else key
            if stem in text or stem.replace(",", "") in text:  # a decade ("the 1880s") is any of its years
                continue
        else:
            words = words if words is not None else _Words(text)
            if _ABBREVIATION.match(bare) or words.has(key):
                continue
        if known is not None and known(bare, [b for _, b, _ in names if b != bare], documents if figure else []):
            continue
        missing.append(bare)
    return list(dict.fromkeys(missing))


def _names_and_figures(question: str) -> list[tuple[str, str, bool]]:
    """(word, bare word, is a figure) for each name (a capitalised word past the first) and figure of `question`."""
    found = []
    for position, word in enumerate(_TERM.findall(question)):
        bare = re.sub(r"['’]s?$", "", word).strip(".,")
        figure = bare[:1].isdigit()
        if bare and (figure or (position > 0 and bare[:1].isupper() and bare.lower() not in _FUNCTION_WORDS)):
            found.append((word, bare, figure))
    return found


def names(question: str) -> list[str]:
    """The names of `question` (capitalised words past its first, not its figures), once each, in order."""
    return list(dict.fromkeys(bare for _, bare, figure in _names_and_figures(question) if not figure))


def finder(text: str) -> Callable[[str], bool]:
    """A test of whether `text` mentions a name, as missing_terms finds names in passages: without case or
    accents, by stem, one typo, another dash, or written as one word (the text's words indexed once)."""
    words = _Words(fold(text))
    return lambda name: words.has(fold(name))


class _Words:
    """The folded passage text, for finding a name in it: by its stem (all but the last 3 letters of a long word:
    "Ukrainian" is found in "Ukraine", "Normans" in "Norman"), as one typo (one edit) in a word of 5 letters or
    more, hyphenated words whole ("Carslbad" / "Carlsbad", "Merceds-Benz" / "Mercedes-Benz"), or as two passage
    words next to each other, with only spaces between them, written as one ("Superbowl"). A hyphenated name is
    not found by its parts apart ("Colorado-Mexico" is not in a text about Colorado and about Mexico)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._by_shape: dict[tuple[int, int], list[str]] | None = None

    def has(self, key: str) -> bool:
        if key[:max(5, len(key) - 3)] in self.text:
            return True
        if self._by_shape is None:  # the words by (length, dashes), and the two-word compounds
            self._by_shape = {}
            for word in set(_PLAIN.findall(self.text)) | set(_HYPHENATED.findall(self.text)):
                self._by_shape.setdefault((len(word), word.count("-")), []).append(word)
            self._pairs = {m.group(1) + m.group(2) for m in _SPACED_PAIR.finditer(self.text)}
        parts = key.split("-")
        for size in (len(key) - 1, len(key), len(key) + 1):
            for word in self._by_shape.get((size, len(parts) - 1), ()):
                differ = [(a, b) for a, b in zip(parts, word.split("-")) if a != b]
                if len(differ) == 1 and len(differ[0][0]) >= _TYPO_MIN and _one_edit(*differ[0]):
                    return True  # one typo in one long part (not "NQ-complete" for "NP-complete")
        return key in self._pairs


def _one_edit(a: str, b: str) -> bool:
    """Levenshtein distance <= 1, or two neighbouring letters swapped ("Sigimund" / "Sigismund", "Carslbad" /
    "Carlsbad")."""
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) <= 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                  and a[diff[1]] == b[diff[0]])
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


def lost_negation(question: str, sentences: Iterable[str]) -> str | None:
    """The question's negation ("not", "never", ...) when none of `sentences` has any; else None."""
    found = _NEGATION.search(_NOT_A_NEGATION.sub(" ", question))
    if found is None or any(_NEGATION.search(s) for s in sentences):
        return None
    return found.group(0)


def _bases(word: str) -> set[str]:
    return {word} | {word[len(p):] for p in _PREFIXES if word.startswith(p) and len(word) - len(p) >= 4}


def _said_otherwise(word: str, said_stems: set[str]) -> bool:
    """Whether a sentence word has `word`'s Snowball stem, when that stem is `word` less at most its last letter
    ("incomplete" / "incompletion": "incomplet"). A shorter stem joins unrelated words ("informal" /
    "information": "inform"), so it does not count."""
    stems = tokenize([word])[0]
    return len(stems) == 1 and len(word) - len(stems[0]) <= 1 and stems[0] in said_stems


def flipped_word(question: str, sentence: str) -> tuple[str, str] | None:
    """(question word, sentence word) when the sentence has a word that is the question word with a negating
    prefix added, removed or swapped ("informal"/"formal", "decrease"/"increase"), and no other form of the
    question word itself ("ruled incomplete" / "appeared to complete ... ruled an incompletion"); else None."""
    asked, said = set(_WORD.findall(fold(question))), set(_WORD.findall(fold(sentence)))
    said_stems = set(tokenize([" ".join(sorted(said))])[0])
    for w in sorted(asked - said):
        if len(w) < 5 or _said_otherwise(w, said_stems):
            continue
        for s in sorted(said - asked):
            if len(s) < 5 or w[:2] == s[:2] and w not in _bases(s) and s not in _bases(w):
                continue
            if _bases(w) & _bases(s):
                return w, s
    return None


def content(question: str) -> str:
    """The question without its question and function words ("Who is X's Y?" -> "X's Y?"), for measuring how
    much of what it asks about a sentence covers."""
    return " ".join(w for w in question.split() if fold(w).strip("?,.!;:") not in _FUNCTION_WORDS)
