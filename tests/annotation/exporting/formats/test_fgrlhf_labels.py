"""Fine-Grained RLHF's reward-model labels, on cases counted by hand."""

import pytest

from annotation.exporting.formats.fgrlhf_labels import (
    FACTUAL,
    IGNORE,
    NO_ERROR,
    NON_FACTUAL,
    labelled_answer,
    segment_label,
    segment_starts,
    subsentence_starts,
    word_errors,
    words_of,
)


def test_words_are_what_str_split_gives_with_their_offsets():
    text = "  Tab\there, new\nline\u00a0and\u2003em  "
    words = words_of(text)
    assert [w.text for w in words] == text.split()
    assert all(text[w.start : w.end] == w.text for w in words)


def split(text: str) -> list[str]:
    return [w.text for w in words_of(text)]


def test_a_sentence_is_cut_after_a_comma_only_with_five_words_on_each_side():
    words = split("It was founded long ago, by twins raised by a wolf, or so they say.")
    # After "ago," (word 4): five words before, ten after: a cut. After "wolf," (word 10): four after: none.
    assert [k for k, s in enumerate(subsentence_starts(words)) if s] == [0, 5]


def test_a_short_piece_after_a_cut_moves_the_cut():
    words = split("A b c d e, f g h, i j k l m n o p.")
    # A cut before "f" (five words before), then "f g h," is three words: the cut moves to "i".
    assert [k for k, s in enumerate(subsentence_starts(words)) if s] == [0, 8]


def test_a_short_first_piece_grows_instead_of_being_cut():
    words = split("Yes, it is true, the city was founded by twins long ago in the past.")
    assert [k for k, s in enumerate(subsentence_starts(words)) if s] == [0]


def test_sub_sentences_are_cut_inside_each_sentence():
    text = "Short one. It was founded long ago, by twins raised by a wolf, or so they say."
    words = words_of(text)
    assert [k for k, s in enumerate(segment_starts(text, words, "sentence")) if s] == [0, 2]
    assert [k for k, s in enumerate(segment_starts(text, words, "subsentence")) if s] == [0, 2, 7]


@pytest.mark.parametrize(
    ("errors", "factuality", "relevance"),
    [
        (set(), NO_ERROR, NO_ERROR),
        ({FACTUAL}, FACTUAL, NO_ERROR),
        ({NON_FACTUAL}, IGNORE, NON_FACTUAL),
        ({FACTUAL, NON_FACTUAL}, FACTUAL, NON_FACTUAL),
    ],
)
def test_segment_labels_of_each_reward_model(errors, factuality, relevance):
    assert (segment_label(errors, FACTUAL), segment_label(errors, NON_FACTUAL)) == (factuality, relevance)


def test_a_span_marks_the_words_it_touches_and_a_short_non_factual_span_marks_none():
    text = "one two three four five six seven"
    words = words_of(text)
    spans = [("Irrelevant", 4, 5), ("Unverifiable", 15, 16), ("Redundant", 8, 27)]
    # "t" of "two": one word, non-factual, left out; "o" of "four": factual, kept; "three four five six": four
    # words, left out.
    assert [sorted(e) for e in word_errors(text, words, spans)] == [[], [], [], [FACTUAL], [], [], []]
    long = [("Redundant", 8, 33)]  # "three four five six seven": 5 words
    assert [sorted(e) for e in word_errors(text, words, long)] == [[], [], *[[NON_FACTUAL]] * 5]


def test_per_word_labels_put_a_factual_error_first():
    text = "a b c d e f"
    tokens, labels = labelled_answer(text, [("Incoherent", 0, 11), ("Wrong-Grounding", 2, 3)], "word", FACTUAL)
    assert tokens == ["a", "b", "c", "d", "e", "f"]
    assert labels == [NON_FACTUAL, FACTUAL, NON_FACTUAL, NON_FACTUAL, NON_FACTUAL, NON_FACTUAL]


def test_an_empty_answer_has_no_words_and_no_segments():
    assert labelled_answer("   ", [], "sentence", FACTUAL) == ([], [])
