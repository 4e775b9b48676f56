"""Is this sentence a statement that the documents lack the answer? (pure: regular expressions, no model)

Models rarely write the prompt's exact refusal sentence. They paraphrase ("The provided passages do not contain
information about...", "There is no information in the given context about...", "None of the passages
mention..."), apologise ("I'm sorry, but I couldn't find..."), say "I don't know", or answer in the question's
language ("Les documents ne contiennent pas...", "Leider enthalten die Passagen keine...", "Lo siento, pero los
pasajes no mencionan..."). `says_not_found(sentence)` recognises all of these; `opens_with_refusal(sentence)`
decides whether a reply that *opens* with that sentence is a refusal:

- the statement starts the sentence (after an "Answer:" label, bold, quotes, "Based on the passages," or an
  apology), and no citation marker comes before it: "There is no information ... [2]" is a refusal;
- or the sentence only describes the passages and then says they lack the answer ("The passages mention the
  maneuvers, but they do not say how many soldiers took part"), with no marker at all.

A statement later in a reply ("X [1]; the documents do not say Y") makes the answer *partial*, not a refusal;
rag.replies applies that rule. "No. Makei said that not a single soldier..." is an answer: a negation is a
refusal only when its subject is the documents, the context or the writer's own knowledge.

Not handled: languages other than English, French, German and Spanish; sarcasm; refusals split across
sentences ("I looked. Nothing.").
"""

from __future__ import annotations

import re

from rag.prompts import REFUSAL_PHRASE

_DOCS = (r"(?:(?:provided|given|supplied|above|these|those|the|this|available|retrieved|cited|numbered|following)\s+)*"
         r"(?:passages?|documents?|context|sources?|texts?|excerpts?|articles?|materials?|records?)")
_NOT = r"(?:do|does|did)(?:\s+not|n['’]t)"
_VERB = (r"(?:contain|mention|say|state|provide|include|specify|give|discuss|address|have|cover|indicate|describe|"
         r"tell|reveal|offer|answer|explain|identify|name|list|report|show|contain any|touch)")
_ENGLISH = [
    rf"\b{_DOCS}\s+(?:\w+\s+){{0,2}}?{_NOT}\s+(?:\w+\s+)?{_VERB}",  # the passages (provided) do not say
    rf"\b{_DOCS}\s+(?:has|have|contains?|provides?|includes?|gives?|mentions?)\s+no\b",
    r"\bthere (?:is|are|was|were) (?:no|not enough|insufficient) (?:\w+\s+){0,2}?(?:information|mention|details?|"
    r"data|evidence|answer|indication|reference|record|statement|context)",
    r"\b(?:i|we)(?:\s+do\s+not|\s+don['’]t|\s+cannot|\s+can['’]t|\s+could\s+not|\s+couldn['’]t|\s+am\s+unable\s+to|"
    r"\s+was\s+unable\s+to|\s+were\s+unable\s+to|\s+am\s+not\s+able\s+to|\s+did\s+not|\s+didn['’]t|\s+have\s+no)"
    r"\s+(?:\w+\s+){0,2}?(?:know|find|answer|see|determine|locate|identify|tell|provide|information|say)\b",
    r"\b(?:it\s+is|it['’]s)\s+(?:not\s+possible|impossible)\s+to\s+(?:determine|answer|say|tell|know|find|identify)",
    rf"\b(?:it\s+is|it['’]s)\s+(?:unclear|not\s+clear)\s+from\s+{_DOCS}",
    r"\bnone of the (?:\w+\s+)?(?:passages|documents|sources|texts|excerpts|articles)\b",
    r"\b(?:no|not enough|insufficient) (?:relevant\s+)?(?:information|context|details) (?:is|was|are|about|on|in|to)\b",
    r"\b(?:answer|information|date|number|name|figure)\s+(?:is|are|was)\s+not\s+(?:\w+\s+)?(?:available|provided|"
    r"mentioned|given|found|specified|stated|included|present|known|in)\b",
]
_OTHER = [  # French, German, Spanish: the documents (or I) with a negation, or a fixed phrase
    r"\b(?:les?|ces|la)\s+(?:\w+\s+)?(?:documents?|passages?|contexte|textes?|sources?|extraits?)\b[^.!?\n]{0,60}?"
    r"\b(?:ne|n['’])\b[^.!?\n]{0,40}?\bpas\b",
    r"\baucune (?:information|mention|réponse|donnée)|\bje ne (?:sais|trouve|peux) pas\b",
    r"\b(?:dokumente?n?|passagen|kontext|texte?n?|quellen|unterlagen)\b[^.!?\n]{0,60}?\b(?:keine?[nmrs]?|nicht)\b",
    r"\bkeine (?:antwort|informationen?|angaben|hinweise)\b|\bich weiß (?:es )?nicht\b",
    r"\b(?:los|las|estos|el|este)\s+(?:\w+\s+)?(?:documentos?|pasajes?|contexto|textos?|fuentes?|fragmentos?)\b"
    r"[^.!?\n]{0,60}?\bno\s+(?:\w+\s+)?(?:contiene|contienen|menciona|mencionan|proporciona|proporcionan|incluye|"
    r"incluyen|dice|dicen|indica|indican|especifica|especifican)\b",
    r"\bno (?:sé|hay información|encuentro)\b",
]
_STATEMENT = re.compile("|".join(f"(?:{p})" for p in _ENGLISH + _OTHER), re.I)
# later in a reply, looser: "the passages only give the year, 911, and do not specify the exact date"
_LOOSE = re.compile(rf"\b{_DOCS}\b(?:(?!\b(?:which|who|that)\b)[^.!?\n]){{0,80}}?\b{_NOT}\s+(?:\w+\s+)?{_VERB}", re.I)
_APOLOGY = re.compile(r"^(?:i['’]?m sorry|i am sorry|sorry|i apologi[sz]e|unfortunately|regrettably|je suis désolée?|"
                      r"désolée?|malheureusement|leider|es tut mir leid|lo siento|lamentablemente|desafortunadamente)"
                      r"\b[,.!]?\s*(?:but|mais|aber|pero)?\s*", re.I)
_LABEL = re.compile(r"^(?:[#>*_\s\"'“”«»]|answer\s*:|réponse\s*:|antwort\s*:|respuesta\s*:)+", re.I)
_LEAD_IN = re.compile(r"^(?:based on|according to|from|in|after reviewing|having reviewed|looking at)\s+(?:the\s+)?"
                      r"(?:\w+\s+){0,3}?(?:passages?|documents?|context|sources?|texts?|information)\s*,\s*", re.I)
_META = re.compile(rf"^{_DOCS}\s+(?:only\s+)?(?:mention|describe|say|talk about|discuss|state|refer to|note)s?\b.*"
                   rf"\b(?:they|it|none)\s+(?:{_NOT}|never)\s+(?:\w+\s+)?{_VERB}", re.I)
_MARKER = re.compile(r"\[\d")


def _norm(text: str) -> str:
    return " ".join(text.replace("’", "'").split())


def says_not_found(sentence: str) -> bool:
    """The sentence says the documents (or the writer) lack the answer, in any of the supported wordings."""
    text = _norm(sentence)
    return _squash(REFUSAL_PHRASE) in _squash(text) or bool(_STATEMENT.search(text) or _LOOSE.search(text))


def opens_with_refusal(sentence: str) -> bool:
    """A reply opening with `sentence` is a refusal (see the module docstring). Markers in `sentence` are
    expected in the app's canonical form ("[1]")."""
    text = _LABEL.sub("", _norm(sentence))
    if _squash(text).startswith(_squash(REFUSAL_PHRASE)):
        return True
    apology = _APOLOGY.match(text)
    body = text[apology.end():] if apology else text
    body = _LEAD_IN.sub("", body)
    found = _STATEMENT.search(body)
    marker = _MARKER.search(body)
    if found and (marker is None or found.start() < marker.start()):
        if len(body[: found.start()].split()) <= 2 or apology:  # "The answer is not...", "Die Dokumente..."
            return True
    return marker is None and bool(_META.search(body))


def _squash(text: str) -> str:
    return " ".join("".join(ch for ch in text.lower() if ch.isalnum() or ch.isspace()).split())
