"""Question -> ranked passages: dense (Chroma), lexical (BM25, tantivy), or both fused: by a convex combination of the
two sides' min-max-normalised scores (the default, `fusion="convex"`: 0.5 x dense + 0.5 x BM25) or by reciprocal
rank fusion (`fusion="rrf"`). In convex fusion, given the chunks' sentence vectors (rag.sentence_vectors), a
candidate's dense score is 0.3 x its cosine + 0.7 x the cosine of its best-matching sentence, over the candidates
of both sides. Then, by default, the best chunk of each document comes before any document's second
(`distinct=True`, among the first DISTINCT_WINDOW, while it scores at least DISTINCT_FLOOR x the top score).
All of it chosen on a SQuAD development split (eval/README.md). Last (`cover=True`), a name of the question that
none of the first COVER_FIRST passages mentions brings in the best later passage that does, from another
document, in the last of those places: a question about two things ("Edward Albee or J. M. Barrie?") whose first
passages are all about one. The BM25 side searches the question less its question words (rag.keywords: "what",
"did", "how many"...), which say what kind of answer is wanted, not where it is.

Scores, per passage: `score` is what the ranking used (the fused score in hybrid mode, cosine similarity in
dense mode, BM25 in lexical mode); `dense_score` is the cosine similarity to the question, filled in for every
passage returned whatever the mode (the refusal floor reads it); `lexical_score` is the BM25 score when the
lexical side found the passage. Optional MMR re-ranks the fused pool for diversity.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from rag import answerability
from rag.keywords import keywords
from rag.types import Passage

DISTINCT_WINDOW = 30  # distinct documents are put first among this many ranked chunks
DISTINCT_FLOOR = 0.5  # ... as long as a document's best chunk scores at least this share of the top score
SPARE = 5  # ranked candidates fetched beyond k, in case some were removed (or are half written) since the ranking
COVER_FIRST = 5  # each name of the question is mentioned among this many first passages, when a later one has it
MAX_COVER_NAMES = 12  # ... for a question with at most this many names

if TYPE_CHECKING:
    from rag.embeddings import Embedder
    from rag.records import ChunkRecord
    from rag.sentence_vectors import SentenceVectors
    from rag.store import Store


def rrf(rankings: list[list[str]], k: int = 60) -> dict[str, float]:
    """Reciprocal rank fusion: sum over rankings of 1 / (k + rank), ranks from 1."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


def convex(dense: list[tuple[str, float]], lexical: list[tuple[str, float]], dense_weight: float) -> dict[str, float]:
    """Convex combination of min-max-normalised scores: dense_weight x dense + (1 - dense_weight) x lexical.

    Each side is normalised over its own candidates (best 1, worst 0; a side whose scores are all equal gives 1);
    a candidate the other side did not return gets 0 from it.
    """
    def normalised(pairs: list[tuple[str, float]]) -> dict[str, float]:
        if not pairs:
            return {}
        scores = [s for _, s in pairs]
        low, spread = min(scores), max(scores) - min(scores)
        return {c: (s - low) / spread if spread > 0 else 1.0 for c, s in pairs}

    d, lx = normalised(dense), normalised(lexical)
    return {c: dense_weight * d.get(c, 0.0) + (1 - dense_weight) * lx.get(c, 0.0) for c in d.keys() | lx.keys()}


def sentence_rescored(store: Store, sentences: SentenceVectors, vector: np.ndarray, dense: list[tuple[str, float]],
                      lexical: list[tuple[str, float]], pool: int, weight: float,
                      ) -> tuple[list[tuple[str, float]], dict[str, float], dict[str, str]]:
    """The dense side made again from both sides' candidates, each scored (1 - weight) x its cosine + weight x its
    best sentence's cosine, the best `pool` kept; with every candidate's cosine and document."""
    union = list(dict.fromkeys([c for c, _ in dense] + [c for c, _ in lexical]))
    rows = sentences.rows(union, store.titles)
    missing = [c for c in union if c not in rows]
    if missing:  # rows not made yet: from the live chunks, once
        chunks, vectors = store.get(missing, embeddings=True)
        made = [chunks[c] for c in missing if c in chunks and c in vectors]
        if made:
            rows.update(sentences.add(made, np.stack([vectors[c.id] for c in made])))
    known = dict(dense)
    cosine = {c: known[c] if c in known else float(r.vector @ vector) for c, r in rows.items()}
    mixed = sorted(((c, (1 - weight) * cosine[c] + weight * float((r.sentences @ vector).max()))
                    for c, r in rows.items()), key=lambda pair: -pair[1])
    return mixed[:pool], cosine, {c: r.document for c, r in rows.items()}


def distinct_first(ranked: list[str], document_of: dict[str, str], scores: dict[str, float],
                   window: int = DISTINCT_WINDOW, floor: float = DISTINCT_FLOOR) -> list[str]:
    """The first chunk of each document among the first `window` ranked, in order, then the others in order;
    promotion stops at the first document whose best chunk scores under `floor` x the top score (so a passage
    that barely matched never jumps ahead of a good second passage of a document)."""
    seen: set[str] = set()
    firsts: list[str] = []
    top = scores[ranked[0]] if ranked else 0.0
    for c in ranked[:window]:
        document = document_of.get(c)
        if document is None or document in seen:
            continue
        if scores[c] < floor * top:
            break
        seen.add(document)
        firsts.append(c)
    chosen = set(firsts)
    return firsts + [c for c in ranked if c not in chosen]


def covering(query: str, head: list[str], ranked: list[str], chunks: dict[str, ChunkRecord], store: Store,
             first: int = COVER_FIRST) -> list[str]:
    """`head` with, for each name of `query` that none of its first `first` chunks mentions, the first chunk of
    `ranked` after them that does (from a document they lack) in the last of those places: in place of the last
    one that is not the first and not the only one of them to mention another of the names; the rest moved down.
    Unchanged when `head` is shorter than `first` (so a shorter search is the start of a longer one) or the query
    has more than MAX_COVER_NAMES names (a pasted text, not a question). `chunks`: the chunks read so far (more
    are read only when a name is missing)."""
    names = answerability.names(query)
    if not names or len(names) > MAX_COVER_NAMES or len(head) < first:
        return head
    finders: dict[str, Callable[[str], bool]] = {}  # one per chunk: its words indexed once, for every name

    def says(c: str, name: str) -> bool:
        if c not in chunks:
            return False
        if c not in finders:
            finders[c] = answerability.finder(f"{chunks[c].title}\n{chunks[c].text}")
        return finders[c](name)

    front = head[:first]
    missing = [n for n in names if not any(says(c, n) for c in front)]
    if not missing:
        return head
    unread = [c for c in ranked if c not in chunks]
    if unread:
        chunks.update(store.get(unread)[0])
    kept = {front[0]}  # the best passage, and each one brought in
    for name in missing:
        if any(says(c, name) for c in front):  # one brought in for an earlier name has it
            continue
        documents = {chunks[c].document for c in front if c in chunks}
        found = next((c for c in ranked if c not in front and c in chunks and chunks[c].document not in documents
                      and says(c, name)), None)
        covered = [n for n in names if any(says(c, n) for c in front)]
        out = next((c for c in reversed(front) if c not in kept and all(
            any(says(o, n) for o in front if o != c) for n in covered if says(c, n))), None)
        if found is None or out is None:
            continue
        front = [c for c in front if c != out] + [found]
        kept.add(found)
    return (front + [c for c in head if c not in front])[:len(head)]


def mmr(candidates: list[str], relevance: dict[str, float], vectors: dict[str, np.ndarray], k: int,
        lam: float) -> list[str]:
    """Maximal marginal relevance: pick, one at a time, the candidate best balancing relevance and novelty."""
    pool = [c for c in candidates if c in vectors]
    if not pool:
        return candidates[:k]
    rel = np.array([relevance[c] for c in pool])
    spread = rel.max() - rel.min()
    rel = (rel - rel.min()) / spread if spread > 0 else np.ones_like(rel)
    matrix = np.stack([vectors[c] for c in pool])
    chosen: list[int] = []
    while len(chosen) < min(k, len(pool)):
        if chosen:
            redundancy = (matrix @ matrix[chosen].T).max(axis=1)
        else:
            redundancy = np.zeros(len(pool))
        value = lam * rel - (1 - lam) * redundancy
        value[chosen] = -np.inf
        chosen.append(int(value.argmax()))
    return [pool[i] for i in chosen]


def retrieve(
    store: Store,
    embedder: Embedder,
    query: str,
    k: int = 5,
    mode: str = "hybrid",
    candidates: int = 50,
    rrf_k: int = 60,
    fusion: str = "convex",
    dense_weight: float = 0.5,
    sentences: SentenceVectors | None = None,
    sentence_weight: float = 0.7,
    distinct: bool = True,
    use_mmr: bool = False,
    mmr_lambda: float = 0.7,
    documents: list[str] | None = None,
    vector: np.ndarray | None = None,
    cover: bool = True,
    question_words: bool = False,
) -> list[Passage]:
    """The best `k` passages for `query`; `vector` is the query's embedding when the caller has it already;
    `question_words`: the BM25 side searches them too."""
    if mode not in ("hybrid", "dense", "lexical"):
        raise ValueError(f"unknown retrieval mode {mode!r}: use hybrid, dense or lexical")
    if fusion not in ("rrf", "convex"):
        raise ValueError(f"unknown fusion {fusion!r}: use rrf or convex")
    pool = max(candidates, k)
    if vector is None:
        vector = embedder.embed([query])[0]
    documents = documents or None  # an empty list filters nothing, as no list
    # twice the pool from the approximate (HNSW) search, the best `pool` kept: the tail of an approximate list
    # depends on the graph, i.e. on the order chunks were inserted (one worker or two), and convex fusion's
    # normalisation reads that tail; the head of a list twice as long is the exact top `pool` in practice
    dense = store.dense_search(vector, 2 * pool, documents)[:pool] if mode != "lexical" else []
    lexical = (store.lexical_search(query if question_words else keywords(query), pool, documents)
               if mode != "dense" else [])
    dense_scores, lexical_scores = dict(dense), dict(lexical)
    document_of: dict[str, str] = {}

    if mode == "hybrid" and fusion == "convex":
        if sentences is not None and sentence_weight > 0:
            dense, cosine, document_of = sentence_rescored(store, sentences, vector, dense, lexical, pool,
                                                       sentence_weight)
            dense_scores = cosine
        ranking_scores = convex(dense, lexical, dense_weight)
    elif mode == "hybrid":
        ranking_scores = rrf([[c for c, _ in dense], [c for c, _ in lexical]], rrf_k)
    else:
        ranking_scores = dense_scores if mode == "dense" else lexical_scores
    # ties (frequent in RRF) go to the closer meaning, then the better keyword match
    ranked = sorted(
        ranking_scores, key=lambda c: (-ranking_scores[c], -dense_scores.get(c, -1.0), -lexical_scores.get(c, 0.0))
    )
    if not ranked:
        return []
    fetched: dict[str, ChunkRecord] = {}  # live chunks already read (for their documents), not read again
    if distinct and not use_mmr:
        missing = [c for c in ranked[:DISTINCT_WINDOW] if c not in document_of]
        fetched = store.get(missing)[0] if missing else {}
        document_of.update({c: chunk.document for c, chunk in fetched.items()})
        ranked = distinct_first(ranked, document_of, ranking_scores)

    pool_ids = ranked[: 3 * k] if use_mmr else ranked[: k + SPARE]
    # only chunks of documents the catalog holds now; their vectors when some similarity is unknown, or for MMR
    if use_mmr or any(c not in dense_scores for c in pool_ids):
        chunks, vectors = store.get(pool_ids, embeddings=True)
    else:
        unread = [c for c in pool_ids if c not in fetched]
        chunks, vectors = {**{c: fetched[c] for c in pool_ids if c in fetched}, **store.get(unread)[0]}, {}
    head = [c for c in pool_ids if c in chunks]
    head = mmr(head, ranking_scores, vectors, k, mmr_lambda) if use_mmr else head[:k]
    if cover and not use_mmr:
        chunks = {**fetched, **chunks}  # what the distinct step read is not read again
        head = covering(query, head, ranked[:DISTINCT_WINDOW], chunks, store)
        unknown = [c for c in head if c not in dense_scores and c not in vectors]
        if unknown:  # a passage brought in from further down: its similarity too
            vectors = {**vectors, **store.get(unknown, embeddings=True)[1]}
    passages = []
    for rank, chunk_id in enumerate(head[:k], start=1):
        chunk = chunks[chunk_id]
        similarity = dense_scores.get(chunk_id)
        if similarity is None and chunk_id in vectors:
            similarity = float(vectors[chunk_id] @ vector)
        passages.append(Passage(
            chunk.id, chunk.document, chunk.title, chunk.url, chunk.text, chunk.start, chunk.end,
            float(ranking_scores[chunk_id]), similarity, lexical_scores.get(chunk_id), rank, chunk.pages,
        ))
    return passages
