"""The per-claim support check: does the passage a claim cites actually say it?

    checker = ClaimChecker(embedder, passages, vectors)
    verdicts = checker.check("Lukashenko has ruled Belarus since 1996", cited=[4])   # 0-based passages
    verdicts[0].supported, verdicts[0].quote, verdicts[0].passage, verdicts[0].cited

A passage supports a claim when two tests pass:

1. **Every number, date and name of the claim appears in the cited text** (the passage and its document's
   title). Numbers are compared by their digits ("1,000" = "1000", "three" = "3"); names are the claim's
   capitalised words that are not common sentence openers, matched case-insensitively, allowing inflection
   ("Belarusian" ~ "Belarus") and a missing given name when the rest stands alone ("Peyton Manning" ~
   "Manning"; not "Eastern Ukraine" ~ "Western Ukraine"). A swapped year or name fails here however similar
   the rest is. With several passages cited together, their union counts.
2. **The passage is about the claim**: `DENSE_WEIGHT` x the best cosine similarity between the claim and one
   of the passage's sentences + the rest x the share of the claim's content words (stemmed, weighted by their
   rarity among the retrieved sentences) found in the passage reaches `THRESHOLD` (`GROUP_THRESHOLD` for
   each passage of a multi-passage citation, measured on the claim's best-matching clause).

The thresholds were tuned on a development split of SQuAD-derived claims and checked on held-out claims and on
the replay corpus (bench/support_check.py, eval/README.md). An unsupported citation moves to the retrieved
passage that supports the claim best, when one does; otherwise it stays, flagged. Each verdict's quote is the
passage sentence that best supports *that* claim; headings and titles are never quotes, and a sentence shared
by overlapping chunks belongs to each of them.

A sentence about the passages themselves ("The passages only give the year, 911, and do not specify the
date [4]") is checked on test 1 only.

Not handled: negation and paraphrased numbers ("a dozen"); two names of one passage swapped in their roles
("Lukashenko told a press conference" when Makei did, both named in the passage); names written in lower case.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from rag.chunking import sentence_spans
from rag.embeddings import Embedder
from rag.lexical import tokenize
from rag.support import Sentence, VectorCache
from rag.types import Passage

DENSE_WEIGHT = 0.5
THRESHOLD = 0.50  # single-passage citation (tuned on the development split)
GROUP_THRESHOLD = 0.45  # each passage of a multi-passage citation, on the claim's best clause

_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split()) if i >= 2}  # "one of", "no one": not numbers to check
_NOT_NAMES = set("""a about above according across after again against all also although among an and another any
around as at because before behind below besides between both but by despite during each either even every few
first following for from furthermore further he her here hers his how however i if in including instead into it its
last later many meanwhile more moreover most much my neither nevertheless next no none nor not of on once one only or
other others our over overall per perhaps she since so some such than that the their them then there therefore these
they this those though through thus to today together too under unlike until up upon us was we what when where
whereas whether which while who whom whose why with within without yes yet you your according answer based sure
certainly indeed note here's there's it's yes no sources source passage passages document documents""".split())
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_NUMBER = re.compile(r"\d[\d,.]*")
_CLAUSE = re.compile(r"\s*(?:[,;:]|\band\b|\bbut\b|\bwhile\b|\bwhereas\b)\s*")


@dataclass(frozen=True)
class Verdict:
    cited: int  # the passage the claim cited (0-based)
    passage: int  # the passage it cites after the check: `cited`, or the one it was moved to
    supported: bool
    quote: Sentence | None  # the best sentence of `passage` for the claim (None: the passage has no sentence)
    score: float


def numbers_in(text: str) -> set[str]:
    found = {n.replace(",", "").rstrip(".").split(".")[0] for n in _NUMBER.findall(text)}
    found |= {_NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in _NUMBER_WORDS}
    return {n for n in found if n}


_QUALIFIERS = set("""north south east west northern southern eastern western central upper lower new old great
greater little saint st san santa""".split())


def name_runs(text: str) -> list[list[str]]:
    """Names: runs of adjacent capitalised words (lower-cased, possessive removed), sentence openers excluded."""
    runs: list[list[str]] = []
    last_end = -2
    for match in _WORD.finditer(text):
        word = re.sub(r"['’]s?$", "", match.group(0))
        if len(word) > 1 and word[0].isupper() and word.lower() not in _NOT_NAMES:
            if runs and text[last_end:match.start()].strip() == "":
                runs[-1].append(word.lower())
            else:
                runs.append([word.lower()])
            last_end = match.end()
    return runs


def names_in(text: str) -> set[str]:
    return {word for run in name_runs(text) for word in run}


def _name_found(name: str, words: set[str]) -> bool:
    if name in words:
        return True
    for word in words:
        short, long_ = sorted((name, word), key=len)
        if len(short) >= 4 and long_.startswith(short) and len(long_) - len(short) <= 4:
            return True
    return False


class Facts:
    """The numbers, words and names of a cited text, read once."""

    def __init__(self, text: str) -> None:
        self.words = {re.sub(r"['’]s?$", "", w.lower()) for w in _WORD.findall(text)}
        self.numbers = numbers_in(text)
        self.names = {tuple(run) for run in name_runs(text)}

    def missing(self, claim: str) -> list[str]:
        """The numbers and names of `claim` this text lacks. In a name of several words, a leading given name
        or title may be missing when the rest stands alone as a name here ("Peyton Manning" ~ "Manning"), not
        when another word goes with it ("Eastern Ukraine" is not "Western Ukraine")."""
        missing = [n for n in sorted(numbers_in(claim)) if n not in self.numbers]
        for run in name_runs(claim):
            lost = [w for w in run if not _name_found(w, self.words)]
            if lost == run[:1] and len(run) > 1 and run[0] not in _QUALIFIERS and tuple(run[1:]) in self.names:
                continue
            missing += [w for w in lost if w not in missing]
        return missing


def missing_facts(claim: str, text: str) -> list[str]:
    """The numbers and names of `claim` that `text` does not contain (see `Facts.missing`)."""
    return Facts(text).missing(claim)


def is_heading(sentence: str, title: str = "") -> bool:
    """A heading, a title or a label line: never a quote."""
    text = sentence.strip()
    if text.startswith("#") or (title and " ".join(text.split()) == " ".join(title.split())):
        return True
    return text[-1:] not in '.!?"”\')»:;' and len(text.split()) <= 14


def passage_sentences(passages: list[Passage]) -> list[Sentence]:
    """Every sentence of every passage, a sentence shared by overlapping chunks once per chunk."""
    return [Sentence(i, p.start + a, p.start + b, p.text[a:b])
            for i, p in enumerate(passages) for a, b in sentence_spans(p.text)]


class ClaimChecker:
    """Checks claims against the passages an answer was given (one per answer; embeddings come from `vectors`)."""

    def __init__(self, embedder: Embedder, passages: list[Passage], vectors: VectorCache | None = None) -> None:
        self.embedder, self.passages = embedder, passages
        self.vectors = vectors if vectors is not None else VectorCache()
        self.sentences = passage_sentences(passages)
        self.quotable = [not is_heading(s.text, passages[s.passage].title) for s in self.sentences]
        self._matrix = (self.vectors.embed(embedder, [s.text for s in self.sentences]) if self.sentences
                        else np.zeros((0, 1)))
        self._of = [[j for j, s in enumerate(self.sentences) if s.passage == i] for i in range(len(passages))]
        self._tokens = [set(t) for t in tokenize([p.text for p in passages])] if passages else []
        self._facts = [Facts(f"{p.title}\n{p.text}") for p in passages]  # a document's title is part of its text
        self._claim_tokens: dict[str, set[str]] = {}
        self._sentence_tokens = [set(t) for t in tokenize([s.text for s in self.sentences])] if self.sentences else []
        n = len(self._sentence_tokens)
        df: dict[str, int] = {}
        for tokens in self._sentence_tokens:
            for t in tokens:
                df[t] = df.get(t, 0) + 1
        self._idf = {t: math.log(1 + (n + 1) / (c + 0.5)) for t, c in df.items()}
        # a word no retrieved sentence has weighs like a common one: numbers and names are test 1's business,
        # the rest is mostly the claim's own wording ("located", "named"), not a fact the passage lacks
        self._unseen = math.log(1 + (n + 1) / max(1.0, n / 4))

    # -- features ----------------------------------------------------------------------------------
    def _embed(self, texts: list[str]) -> np.ndarray:
        return self.vectors.embed(self.embedder, texts)

    def _share(self, words: set[str], tokens: set[str]) -> float:
        total = sum(self._idf.get(w, self._unseen) for w in words)
        return sum(self._idf.get(w, self._unseen) for w in words & tokens) / total if total else 0.0

    def _best(self, claim: str, vector: np.ndarray, passage: int) -> tuple[float, Sentence | None]:
        """The best cosine between the claim and a sentence of the passage, and the sentence to quote: the
        quotable one scoring best on cosine and word overlap together."""
        own = self._of[passage]
        if not own:
            return 0.0, None
        sims = self._matrix[own] @ vector
        words = self._words(claim)
        quotable = [k for k, j in enumerate(own) if self.quotable[j]] or list(range(len(own)))
        best = max(quotable, key=lambda k: DENSE_WEIGHT * sims[k]
                   + (1 - DENSE_WEIGHT) * self._share(words, self._sentence_tokens[own[k]]))
        return float(sims.max()), self.sentences[own[best]]

    def _coverage(self, claim: str, passage: int) -> float:
        return self._share(self._words(claim), self._tokens[passage])

    def _words(self, claim: str) -> set[str]:
        if claim not in self._claim_tokens:
            self._claim_tokens[claim] = set(tokenize([claim])[0])
        return self._claim_tokens[claim]

    def _missing(self, claim: str, passages: list[int]) -> list[str]:
        missing = [set(self._facts[p].missing(claim)) for p in passages]
        return sorted(set.intersection(*missing)) if len(passages) > 1 else sorted(missing[0])

    def score(self, claim: str, passage: int, vector: np.ndarray | None = None) -> tuple[float, Sentence | None]:
        """How well `passage` is about `claim` (0..1), and its best sentence for it."""
        vector = self._embed([claim])[0] if vector is None else vector
        dense, quote = self._best(claim, vector, passage)
        return DENSE_WEIGHT * dense + (1 - DENSE_WEIGHT) * self._coverage(claim, passage), quote

    def features(self, claim: str, passage: int) -> tuple[float, float, list[str]]:
        """The check's inputs for one passage: best sentence cosine, content-word coverage, missing facts."""
        dense, _ = self._best(claim, self._embed([claim])[0], passage)
        return dense, self._coverage(claim, passage), self._missing(claim, [passage])

    # -- decisions ---------------------------------------------------------------------------------
    def supports(self, claim: str, passage: int,
                 vector: np.ndarray | None = None) -> tuple[bool, float, Sentence | None]:
        score, quote = self.score(claim, passage, vector)
        ok = score >= THRESHOLD and not self._missing(claim, [passage])
        return ok, score, quote

    def check(self, claim: str, cited: list[int], move: bool = True, facts_only: bool = False) -> list[Verdict]:
        """One verdict per cited passage (0-based); with `move`, an unsupported one moves to the retrieved
        passage that supports the claim best, if one does. `facts_only`: only test 1 (for a sentence about the
        passages themselves, "The passages only give the year, 911, ... [4]")."""
        if not claim.strip() or not cited:
            return []
        vector = self._embed([claim])[0]
        if facts_only:
            ok = not self._missing(claim, cited)
            return [Verdict(p, p, ok, *self.score(claim, p, vector)[::-1]) for p in cited]
        if len(cited) == 1:
            ok, score, quote = self.supports(claim, cited[0], vector)
            verdicts = [Verdict(cited[0], cited[0], ok, quote, score)]
        else:
            verdicts = self._check_group(claim, cited, vector)
        out = []
        for verdict in verdicts:
            if move and not verdict.supported:
                verdict = self._move(claim, verdict, vector, taken={v.passage for v in out} | set(cited))
            out.append(verdict)
        return out

    def _check_group(self, claim: str, cited: list[int], vector: np.ndarray) -> list[Verdict]:
        facts_ok = not self._missing(claim, cited)
        clauses = [c for c in _CLAUSE.split(claim) if len(c.split()) >= 3]
        clause_vectors = self._embed(clauses) if clauses else np.zeros((0, vector.shape[0]))
        verdicts = []
        for p in cited:
            score, quote = self.score(claim, p, vector)
            for clause, clause_vector in zip(clauses, clause_vectors):
                score = max(score, self.score(clause, p, clause_vector)[0])
            verdicts.append(Verdict(p, p, facts_ok and score >= GROUP_THRESHOLD, quote, score))
        return verdicts

    def _move(self, claim: str, verdict: Verdict, vector: np.ndarray, taken: set[int]) -> Verdict:
        best: Verdict | None = None
        for p in range(len(self.passages)):
            if p in taken:
                continue
            ok, score, quote = self.supports(claim, p, vector)
            if ok and (best is None or score > best.score):
                best = Verdict(verdict.cited, p, True, quote, score)
        return best or verdict

    def infer(self, claim: str) -> Verdict | None:
        """For a claim the model cited nothing for: the passage that supports it best, if one does."""
        vector = self._embed([claim])[0]
        best: Verdict | None = None
        for p in range(len(self.passages)):
            ok, score, quote = self.supports(claim, p, vector)
            if ok and (best is None or score > best.score):
                best = Verdict(p, p, True, quote, score)
        return best
