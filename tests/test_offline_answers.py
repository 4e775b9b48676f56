"""The offline answerer: what kind of answer a question wants, signs that the passages do not hold it, and the
answers and refusals a user gets from the seed corpus with no LLM."""

from __future__ import annotations

import pytest

import rag
from rag import answer_types, answerability

from conftest import SEEDS, write_corpus


@pytest.mark.parametrize("question, kind", [
    ("How many troops took part?", "count"),
    ("What is the population of Belarus?", "count"),
    ("How old is Vladimir Makei?", "age"),
    ("In what year did the drills end?", "year"),
    ("When did the drills start?", "date"),
    ("Who is Belarus's foreign minister?", "person"),
    ("What is the name of Ukraine's defense minister?", "person"),
    ("Where did Makei speak?", "place"),
    ("What did NATO say about the drills?", None),
])
def test_expected_kind_of_answer(question: str, kind: str | None) -> None:
    assert answer_types.expected(question) == kind


def test_a_sentence_holds_a_kind_only_with_something_the_question_lacks() -> None:
    q = "How many people were arrested during the 2020 protests?"
    assert not answer_types.holds("People protested in 2020.", "count", q)  # 2020 is the question's own figure
    assert answer_types.holds("Police arrested 35,000 people in 2020.", "count", q)
    assert not answer_types.holds("Belarus has been ruled by Lukashenko since 1994.", "count", "How many troops?")
    assert answer_types.holds("He is 62 years old.", "age", "How old is he?")
    assert not answer_types.holds("He has led the ministry since 2012.", "age", "How old is he?")
    assert answer_types.holds("The drills began on Thursday.", "date", "When did the drills start?")
    assert answer_types.holds("Vladimir Makei spoke.", "person", "Who is the foreign minister?")
    assert not answer_types.holds("the minister spoke.", "person", "Who is the foreign minister?")


def passage(text: str) -> rag.Passage:
    return rag.Passage("p1", "doc", "Doc", None, text, 0, len(text), 1.0)


def test_missing_terms_names_what_no_passage_mentions() -> None:
    passages = [passage("In 1038 the Normans under George Maniakes fought in Sicily. Hervé led the army.")]
    assert answerability.missing_terms("Who led Issacs troops to Cyprus?", passages) == ["Issacs", "Cyprus"]
    assert answerability.missing_terms("What was passed in 1805?", passages) == ["1805"]
    # case, accents, plurals and possessives do not count as missing; the first word is not a name
    assert answerability.missing_terms("When did Herve fight the Norman's enemies in SICILY?", passages) == []
    assert answerability.missing_terms("Normans fought where in 1038?", passages) == []
    # a typo one edit from a passage word, or an abbreviation the passages may spell out, does not count either
    assert answerability.missing_terms("Where did the Normnas under Maniaeks fight?", passages) == []
    assert answerability.missing_terms("Did the TV say where the Normans fought?", passages) == []
    assert answerability.missing_terms("Did Manikas fight in Sicily?", passages) == ["Manikas"]  # three edits
    # given the corpus's vocabulary, only what the whole corpus lacks
    seen: list[tuple[str, list[str], list[str]]] = []

    def known(term: str, others: list[str], documents: list[str]) -> bool:  # the corpus holds "Cyprus"
        seen.append((term, others, documents))
        return term == "Cyprus"

    assert answerability.missing_terms("Who led Issacs troops to Cyprus?", passages, known) == ["Issacs"]
    assert seen == [("Issacs", ["Cyprus"], []), ("Cyprus", ["Issacs"], [])]
    assert answerability.missing_terms("What was passed in 1805?", passages, known) == ["1805"]
    assert seen[-1] == ("1805", [], ["doc"])  # a figure may also be held by the passages' own documents


def test_names_written_otherwise_than_in_the_passages_are_found() -> None:
    """Dashes, letters Unicode does not decompose, hyphenated typos and compounds are the same name; a changed
    short part of a hyphenated name, or a hyphenated name made of two words found apart, is not."""
    passages = [passage("Skłodowska-Curie founded the Polish–Lithuanian institute near the Mercedes-Benz "
                        "Superdome, where the Super Bowl was held. Colorado and Mexico sent NP-complete problems.")]
    for question in ("Who founded the Sklodowska-Curie institute?", "Where is the Polish-Lithuanian institute?",
                     "Who played at the Merceds-Benz Superdome?", "Who won the Superbowl?"):
        assert answerability.missing_terms(question, passages) == [], question
    assert answerability.missing_terms("Which problems are NQ-complete?", passages) == ["NQ-complete"]
    assert answerability.missing_terms("Where is the Colorado-Mexico border?", passages) == ["Colorado-Mexico"]
    assert answerability.missing_terms("Where is the Polihs-Lithuanain institute?", passages) == \
        ["Polihs-Lithuanain"]  # one typo in each part: two typos
    short = [passage("The factory in Lodz made cloth. It sold to the Super. Bowl makers came too.")]
    assert answerability.missing_terms("What did the factory in Łódź make?", short) == []  # too short for a typo
    assert answerability.missing_terms("Who won the Superbowl?", short) == ["Superbowl"]  # a full stop between


def test_lost_negation_and_flipped_words() -> None:
    said = ["Upper and lower bounds are usually stated using the big O notation."]
    assert answerability.lost_negation("What is usually not stated using the big O notation?", said) == "not"
    assert answerability.lost_negation("What is usually stated using the big O notation?", said) is None
    assert answerability.lost_negation("What isn't stated?", ["It is never stated."]) is None
    flip = answerability.flipped_word
    assert flip("How do algorithms scale with a decrease in input size?",
                "Complexity theory is interested in how algorithms scale with an increase in the input size.") \
        == ("decrease", "increase")
    assert flip("What can be viewed as an informal language?", "A problem can be viewed as a formal language.") \
        == ("informal", "formal")
    assert flip("What was founded in 1066?", "The abbey was founded in 1066.") is None
    assert flip("Who invaded Italy?", "The Normans were invading Italy.") is None
    # the sentence holds the opposite and also the question's own word in another form: not a flip (SQuAD v1.1)
    ruling = ("Cam Newton appeared to complete a 24-yard pass to Jerricho Cotchery, but the call was ruled an "
              "incompletion and upheld after a replay challenge.")
    assert flip("Whose pass to Jerricho Cotchery was ruled incomplete?", ruling) is None
    assert flip("Whose pass to Jerricho Cotchery was ruled complete?", ruling) is None
    assert flip("Whose pass was ruled incomplete?", "Newton appeared to complete a pass.") == ("incomplete", "complete")
    # a word that only shares a short stem with the question's word is not that word: still a flip
    dress = "Formal dress was required, according to the information given."
    assert flip("Which style of dress was informal?", dress) == ("informal", "formal")
    assert flip("What kind of objects are animate?", "Inanimate objects were painted alongside animals.") \
        == ("animate", "inanimate")


@pytest.fixture(scope="module")
def offline(seed_index: rag.Index) -> rag.Index:
    return seed_index


def test_the_offline_answer_does_not_pad(offline: rag.Index) -> None:
    answer = offline.ask("Who is Belarus's foreign minister?")
    assert not answer.refused and "Vladimir Makei" in answer.text
    assert len(answer.citations) == 1, answer.text  # the first sentence answers it whole
    assert "Lukashenko" not in answer.text


@pytest.mark.parametrize("question, reason", [
    ("How old is Vladimir Makei?", "no passage found gives an age"),
    ("What did the Ukrainian president Zelensky say about the drills?", "no passage found mentions “Zelensky”"),
])
def test_on_topic_questions_the_corpus_does_not_answer_are_refused_with_a_reason(
        offline: rag.Index, question: str, reason: str) -> None:
    answer = offline.ask(question)
    assert answer.refused and answer.mode == "extractive" and answer.citations == []
    assert answer.text.startswith(f"I could not find the answer to this in the documents: {reason}.")
    assert answer.label == "Not found in the documents"


def test_a_count_question_is_refused_when_no_passage_gives_a_number(embedder) -> None:
    """Years are not counts: passages with only "since 1994" and "in 2020" do not answer "how many"."""
    from rag.answering import Answerer

    text = rag.documents.load_file(next(SEEDS.glob("*.txt")), "seed.txt").text
    start = text.index("Belarus, ruled by Lukashenko")
    end = text.index("Original url") if "Original url" in text else len(text)
    piece = text[start:end].strip()
    found = [rag.Passage("p1", "seed.txt", "Belarus", None, piece, start, start + len(piece), 1.0, 0.6, rank=1)]
    answerer = Answerer(lambda query, k=None, mode=None, documents=None: found, embedder, rag.Settings())
    answer = answerer.ask("How many troops took part in the drills?")
    assert answer.refused, answer.text
    assert "no passage found gives a number for it" in answer.text
    answered = answerer.ask("Since when has Lukashenko ruled Belarus?")
    assert not answered.refused and "1994" in answered.text
    # RAG_OFFLINE_REFUSALS=false: the closest sentence is quoted instead, cited, for the reader to judge
    lenient = Answerer(lambda query, k=None, mode=None, documents=None: found, embedder,
                       rag.Settings(offline_refusals=False))
    quoted = lenient.ask("How many troops took part in the drills?")
    assert not quoted.refused and quoted.citations and quoted.citations[0].quote in piece


def test_answerable_questions_still_answered(offline: rag.Index) -> None:
    for question, expected in [("What did NATO call Russia's drills in Belarus?", "alarming"),
                               ("Who has ruled Belarus since 1994?", "Lukashenko"),
                               ("Where did Makei hold a press conference?", "Minsk")]:
        answer = offline.ask(question)
        assert not answer.refused and expected in answer.text, (question, answer.text)
        text = rag.documents.load_file(next(SEEDS.glob("*.txt")), "x").text
        for c in answer.citations:
            assert text[c.start:c.end] == c.quote


BRIDGE = {
    "tower.txt": "The Eiffel Tower in Paris was built by the engineering company of Gustave Eiffel between 1887 "
                 "and 1889. It was the tallest structure in the world for 41 years.",
    "engineer.txt": "Gustave Eiffel was born in Dijon in 1832. He studied at the Ecole Centrale in Paris.",
}


def test_a_name_the_corpus_holds_elsewhere_is_not_a_reason_to_refuse(tmp_path, embedder) -> None:
    """A multi-hop question names a bridge fact ("born in Dijon") from a passage retrieval did not bring: the
    corpus holds the name, so the closest passage is quoted; a name no document has is still refused."""
    question = "Which company built the Paris tower of the engineer born in Dijon?"
    both = rag.open_index(tmp_path / "both", embedder=embedder, top_k=1)
    both.ingest(write_corpus(tmp_path / "c1", BRIDGE), progress=False)
    assert [p.document for p in both.search(question, k=1)] == ["tower.txt"]
    answer = both.ask(question, k=1)
    assert not answer.refused and "engineering company of Gustave Eiffel" in answer.text, answer.text
    alone = rag.open_index(tmp_path / "alone", embedder=embedder, top_k=1)
    alone.ingest(write_corpus(tmp_path / "c2", {"tower.txt": BRIDGE["tower.txt"]}), progress=False)
    refused = alone.ask(question, k=1)
    assert refused.refused and "no passage found mentions “Dijon”" in refused.text
    # a name the corpus holds only apart from the question's other names is still a reason
    far = both.ask("Which company built the tower of the engineer born in Dijon for Paris in 1889?", k=1)
    assert not far.refused  # "Dijon" is held together with "Paris" (and "1889" is in the passage)
    stray = both.ask("Which company built the tower in Dijon for the 1937 Lisbon fair?", k=1)
    assert stray.refused and "“Dijon”" in stray.text, stray.text  # "Dijon" is held, but with no "Lisbon" or "1937"
    # a season year that the passage's own document states in another chunk (and never beside the names asked)
    season = "# Panthers review\n\nThe 2015 season was the Panthers' twenty-first. " + " ".join(
        f"In week {n} the Panthers beat a rival by {n + 3} points at home." + " Fans bought a souvenir Cup." * (n == 20)
        for n in range(1, 40))
    games = rag.open_index(tmp_path / "games", embedder=embedder, top_k=1, chunk_tokens=128)
    games.ingest(write_corpus(tmp_path / "c3", {"season.txt": season + " Newton threw for 3,837 yards that year.",
                                                "library.txt": "The city library reopened in 2023."}), progress=False)
    yards = games.ask("How many yards did Newton throw for in 2015?", k=1)
    assert not yards.refused and "3,837 yards" in yards.text, yards.text
    assert "2015" not in yards.passages[0].text
    elsewhere = games.ask("How many yards did Newton throw for in 2023?", k=1)
    assert elsewhere.refused and "“2023”" in elsewhere.text, elsewhere.text  # only another document has it
    # a name, unlike a figure, must sit with the question's names: a long manual holds many stray words
    cup = games.ask("How many yards did Newton throw for in the 2015 Cup?", k=1)
    assert cup.refused and "“Cup”" in cup.text and "2015" not in cup.text.split(":")[1], cup.text
    # restricted to some documents, what the other documents hold does not count
    only = both.ask(question, k=1, documents=["tower.txt"])
    assert only.refused and "“Dijon”" in only.text
