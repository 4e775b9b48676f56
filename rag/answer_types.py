"""What kind of answer a question expects, and whether a sentence holds one (pure: no model, no I/O).

    expected("How many troops took part?")            -> "count"
    holds("Some 30,000 troops took part.", "count", "How many troops took part?")   -> True

The kinds, from the question's wording (English only):
    count   how many / how much / what number|percentage|amount ...  -> a number that is not a year ("not a single"
            and "none" count)
    duration  for how long / how long has|did|will ...                -> a number, a span of time, or "since <year>"
    age     how old / at what age                                    -> "N years old", "aged N", "N-year-old"
    year    what year / which century / in what decade               -> a year, century or decade
    date    when / what date / what day|month                        -> a year, month, weekday, date or time word
    person  who / whom / whose / name of the ... (minister, author)  -> a name of two or more capitalised words
    place   where / in what city|country|...                        -> a capitalised name
A sentence holds the kind when it contains such an expression that the question itself does not contain (the
question's own numbers and names are not answers to it).

Not handled: other languages; names written in lower case; a "who" answered by an organisation or a single
surname (counted only when it is not a word of the question); numbers written as ordinals ("the third").
"""

from __future__ import annotations

import re

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|"
    "eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|hundreds|thousand|thousands|"
    "million|millions|billion|billions|trillion|dozen|dozens"
)
_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
           "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_TIME_WORDS = (r"yesterday|today|tomorrow|tonight|morning|evening|afternoon|week|weekend|month|year|years|"
               r"decade|decades|century|centuries|era|season|spring|summer|autumn|winter|ago|later|earlier|since")

_DIGITS = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\w)|(?<![\w.])\d+(?:\.\d+)?(?:%|(?=\b))")
_NUMBER_WORD = re.compile(rf"\b(?:{_NUMBER_WORDS})\b", re.I)
_YEAR = re.compile(r"(?<![\d,.])(?:1[0-9]{3}|20[0-9]{2})(?:s|'s)?(?![\d,])|\b\d{1,2}(?:st|nd|rd|th) century\b|"
                   r"\b(?:\w+-)?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|"
                   r"twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|"
                   r"twentieth|twenty-first) century\b|\b(?:BC|AD|BCE|CE)\b", re.I)
_DATE_WORD = re.compile(rf"\b(?:{_MONTHS}|{_DAYS}|{_TIME_WORDS})\b", re.I)
_ZERO = re.compile(r"\bnot (?:a|one) single\b|\bnot one\b|\bnone\b|\bzero\b|\bno one\b|\bnobody\b", re.I)
_SPAN = re.compile(r"\bsince (?:the )?\d{4}s?\b|"
                   r"\b(?:years?|months?|weeks?|days?|hours?|minutes?|decades?|centur(?:y|ies))\b", re.I)
_AGE = re.compile(r"\b\d{1,3}[- ]years?[- ]old\b|\baged? \d{1,3}\b|\bage of \d{1,3}\b|\b\d{1,3}-year-old\b|"
                  rf"\b(?:{_NUMBER_WORDS})[- ]years?[- ]old\b", re.I)
_NAME = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:(?:de|da|van|von|der|del|la|le|bin|al|of)\s+)?[A-Z][\w'’.-]*)+")
_CAPITALISED = re.compile(r"\b[A-Z][\w'’-]+")
_WORD = re.compile(r"[\w'’]+")

# question wordings, first match wins
_KINDS = [
    ("age", re.compile(r"\bhow old\b|\bat what age\b|\bwhat age\b|\bhow young\b", re.I)),
    ("duration", re.compile(r"\bfor how long\b|\bhow long (?:has|have|had|did|does|do|will|would|was|were|"
                            r"ago|until|before|after)\b", re.I)),
    ("count", re.compile(r"\bhow (?:many|much|long|far|big|large|tall|high|deep|wide|heavy|fast|often)\b|"
                         r"\bwhat (?:is the |was the )?(?:number|percentage|percent|amount|population|size|"
                         r"length|distance|cost|price|total|rate|share|proportion)\b", re.I)),
    ("year", re.compile(r"\b(?:what|which|in what|in which) (?:year|century|decade)\b", re.I)),
    ("date", re.compile(r"^\s*when\b|\bwhen (?:did|was|were|is|does|do|will|had|has)\b|"
                        r"\b(?:what|which) (?:date|day|month|time|period)\b|\bsince when\b", re.I)),
    ("person", re.compile(r"^\s*(?:who|whom|whose)\b|\b(?:who|whom) (?:is|was|were|are|did|does|had|has)\b|"
                          r"\bname of (?:the |his |her |its |their )?(?:[\w'’-]+ ){0,3}"
                          r"(?:minister|president|leader|author|founder|king|queen|ceo|chief|director|head|person|man|woman|attache|official|"
                          r"secretary|governor|mayor|wife|husband|son|daughter|father|mother)\b", re.I)),
    ("place", re.compile(r"^\s*where\b|\bwhere (?:did|was|were|is|are|does|do)\b|\bin (?:what|which) "
                         r"(?:city|country|state|town|region|province|county|continent|place|area|location)\b|"
                         r"\b(?:what|which) (?:city|country|state|town|region|province|continent)\b", re.I)),
]


def expected(question: str) -> str | None:
    """The kind of answer `question` asks for, or None when its wording does not say."""
    for kind, pattern in _KINDS:
        if pattern.search(question):
            return kind
    return None


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def _new(found: list[str], question: str) -> bool:
    """True when some found expression is not already in the question."""
    asked = _words(question)
    return any(not (_words(item) <= asked) for item in found)


def holds(sentence: str, kind: str | None, question: str = "") -> bool:
    """True when `sentence` contains an answer of `kind` that `question` does not already contain
    (always True for kind None)."""
    if kind is None:
        return True
    if kind == "age":
        return _new(_AGE.findall(sentence), question)
    if kind == "count":
        numbers = [n for n in _DIGITS.findall(sentence) if not _YEAR.fullmatch(n)]
        return _new(numbers + _NUMBER_WORD.findall(sentence) + _ZERO.findall(sentence), question)
    if kind == "duration":
        numbers = [n for n in _DIGITS.findall(sentence) if not _YEAR.fullmatch(n)]
        return _new(numbers + _NUMBER_WORD.findall(sentence) + _SPAN.findall(sentence), question)
    if kind == "year":
        return _new(_YEAR.findall(sentence), question)
    if kind == "date":
        return _new(_YEAR.findall(sentence) + _DATE_WORD.findall(sentence) + _DIGITS.findall(sentence), question)
    body = sentence.strip()
    if kind == "person":
        return _new(_NAME.findall(body), question) or _new(_CAPITALISED.findall(body[1:]), question)
    return _new(_CAPITALISED.findall(body[1:]), question)  # place: any name past the first word
