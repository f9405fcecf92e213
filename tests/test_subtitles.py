"""Captions: splitting narration into cues, timing them, SRT/WebVTT, joining acts."""

from __future__ import annotations

import pytest
from srt import read_srt  # tests/srt.py

from ncfvid.subtitles import (
    Cue,
    join_act_cues,
    split_caption,
    to_srt,
    to_vtt,
    write_subtitles,
)

NARRATION = (
    "Neural collaborative filtering replaces the dot product of matrix factorization with a neural "
    "network. It learns an embedding for every user and every item, then feeds the pair through a "
    "multilayer perceptron to predict a rating. Simple, right? Not quite: training needs negative "
    "samples, and the model can overfit small data sets quickly."
)


def check_cues(cues: list[Cue], text: str, start: float, end: float, max_chars: int = 42, max_lines: int = 2):
    assert cues
    for cue in cues:
        lines = cue.text.split("\n")
        assert 1 <= len(lines) <= max_lines, cue.text
        for line in lines:
            assert line == line.strip() and line
            assert len(line) <= max_chars or " " not in line, line
    assert " ".join(c.text.replace("\n", " ") for c in cues).split() == text.split()
    times = [t for c in cues for t in (c.start, c.end)]
    assert times == sorted(times)
    assert cues[0].start >= start and cues[-1].end == pytest.approx(end)
    assert all(start <= t <= end for t in times)
    assert all(a.end == pytest.approx(b.start) for a, b in zip(cues, cues[1:], strict=False))


def test_split_keeps_lines_short_words_in_order_and_times_monotonic():
    cues = split_caption(NARRATION, 2.0, 22.0)
    check_cues(cues, NARRATION, 2.0, 22.0)
    assert cues[0].start == 2.0
    assert len(cues) >= 4
    # Timed by share of characters.
    chars = [len(c.text) for c in cues]
    durations = [c.end - c.start for c in cues]
    assert durations[0] / durations[1] == pytest.approx(chars[0] / chars[1], rel=0.1)


@pytest.mark.parametrize("max_chars,max_lines", [(42, 2), (32, 2), (60, 1), (20, 3)])
def test_split_respects_limits(max_chars, max_lines):
    cues = split_caption(NARRATION, 0.0, 30.0, max_chars=max_chars, max_lines=max_lines)
    check_cues(cues, NARRATION, 0.0, 30.0, max_chars, max_lines)


def test_short_text_is_one_line_and_long_word_stays_whole():
    assert split_caption("Hello there.", 1.0, 2.0) == [Cue(1.0, 2.0, "Hello there.")]
    word = "Pneumonoultramicroscopicsilicovolcanoconiosis-and-more-characters"
    cues = split_caption(f"The word {word} is long.", 0.0, 4.0)
    check_cues(cues, f"The word {word} is long.", 0.0, 4.0)
    assert any(word in c.text.split("\n") for c in cues)
    assert split_caption("   ", 0.0, 1.0) == []


def test_split_prefers_sentence_ends():
    text = "This sentence has enough words to fill a line. Another sentence follows it right here."
    cues = split_caption(text, 0.0, 6.0)
    assert [c.text for c in cues] == [
        "This sentence has enough\nwords to fill a line.",
        "Another sentence follows it right here.",
    ]
    # Within a cue the lines break after the sentence end when that is close to balanced.
    two = split_caption("We train the model. Then we test it on held-out ratings.", 0.0, 4.0)
    assert two == [Cue(0.0, 4.0, "We train the model.\nThen we test it on held-out ratings.")]
    # Cues end at sentence ends rather than mid-sentence when the sentences fit.
    text = (
        "The first sentence is about embeddings and users here. "
        "The second sentence is about a neural network there. "
        "The third one closes."
    )
    cues = split_caption(text, 0.0, 9.0)
    check_cues(cues, text, 0.0, 9.0)
    assert all(c.text.endswith(".") for c in cues)


def test_split_balances_lines():
    cues = split_caption("one two three four five six seven eight nine ten eleven twelve", 0.0, 3.0)
    assert len(cues) == 1
    first, second = cues[0].text.split("\n")
    assert abs(len(first) - len(second)) <= 8


def check_word_cues(cues: list[Cue], text: str, start: float, end: float, max_chars: int, max_lines: int):
    """As check_cues, for cues timed on the words' sound: a gap may stand between two cues."""
    assert cues
    for cue in cues:
        lines = cue.text.split("\n")
        assert 1 <= len(lines) <= max_lines, cue.text
        assert all(len(line) <= max_chars or " " not in line for line in lines)
    assert " ".join(c.text.replace("\n", " ") for c in cues).split() == text.split()
    times = [t for c in cues for t in (c.start, c.end)]
    assert times == sorted(times)
    assert all(start <= t <= end for t in times)


def test_cues_start_and_end_on_their_first_and_last_words_sound():
    text = "One two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
    words = text.split()
    # Each word sounds for 0.3 s, 0.5 s apart; a 0.5 s pause after "eight".
    sounds = [
        (10.0 + 0.5 * i + (0.5 if i >= 8 else 0), 10.3 + 0.5 * i + (0.5 if i >= 8 else 0), w)
        for i, w in enumerate(words)
    ]
    cues = split_caption(text, 10.0, 19.0, max_chars=20, max_lines=1, word_sounds=sounds)
    check_word_cues(cues, text, 10.0, 19.0, 20, 1)
    assert len(cues) > 2
    for cue in cues:
        first, last = words.index(cue.text.split()[0]), words.index(cue.text.split()[-1])
        # 0.2 s pauses close halfway (0.1 s each side), the 0.7 s one stays
        assert cue.start == pytest.approx(sounds[first][0] - (0.1 if first not in (0, 8) else 0))
        assert cue.end == pytest.approx(sounds[last][1] + (0.1 if last not in (7, 15) else 0))
    assert cues[-1].end == pytest.approx(sounds[-1][1])


def test_a_short_pause_between_cues_is_closed_halfway():
    sounds = [(0.0, 0.45, "alpha"), (0.5, 0.9, "beta"), (1.1, 1.4, "gamma"), (1.5, 1.9, "delta")]
    cues = split_caption("alpha beta gamma delta", 0.0, 3.0, max_chars=6, max_lines=1, word_sounds=sounds)
    # Pauses of 0.05, 0.2 and 0.1 s: closed in their middles; the first and last edges stay on the sound.
    edges = [t for c in cues for t in (c.start, c.end)]
    assert edges == pytest.approx([0.0, 0.475, 0.475, 1.0, 1.0, 1.45, 1.45, 1.9])
    sounds[2] = (1.3, 1.4, "gamma")
    cues = split_caption("alpha beta gamma delta", 0.0, 3.0, max_chars=6, max_lines=1, word_sounds=sounds)
    assert (cues[1].end, cues[2].start) == (0.9, 1.3)  # 0.4 s of silence: no caption over it


def test_word_sounds_that_do_not_match_the_caption():
    # The spoken text went through the lexicon ("N C F" for "NCF"); "NCF" is heard from N's start to F's end.
    caption = "The NCF model learns embeddings. Then an MLP predicts ratings for every single user."
    spoken = "The N C F model learns embeddings. Then an M L P predicts ratings for every single user."
    sounds = [(1.2 + 0.4 * i, 1.3 + 0.4 * i, w) for i, w in enumerate(spoken.split())]  # 0.3 s pauses
    cues = split_caption(caption, 1.0, 12.0, max_chars=13, max_lines=1, word_sounds=sounds)
    check_word_cues(cues, caption, 1.0, 12.0, 13, 1)
    heard = [w.rstrip(".") for w in spoken.split()]
    for cue in cues:
        first, last = cue.text.split()[0].rstrip("."), cue.text.split()[-1].rstrip(".")
        first = "N" if first == "NCF" else "M" if first == "MLP" else first
        last = "F" if last == "NCF" else "P" if last == "MLP" else last
        assert cue.start == pytest.approx(sounds[heard.index(first)][0]), cue
        assert cue.end == pytest.approx(sounds[heard.index(last, heard.index(first))][1]), cue
    assert any("NCF" in c.text for c in cues) and any(c.text.endswith("MLP") for c in cues)


def test_word_sounds_are_clamped_into_the_range():
    cues = split_caption(
        "alpha beta gamma delta",
        5.0,
        6.0,
        max_chars=11,
        max_lines=1,
        word_sounds=[(4.0, 4.5, "alpha"), (5.5, 5.6, "beta"), (5.2, 5.3, "gamma"), (9.0, 9.5, "delta")],
    )
    check_word_cues(cues, "alpha beta gamma delta", 5.0, 6.0, 11, 1)


def test_srt_and_vtt_golden():
    cues = [Cue(0.0, 1.5, "Hello there,\nworld."), Cue(1.5, 3661.0004, "A < B & C --> D")]
    assert to_srt(cues) == (
        "1\n00:00:00,000 --> 00:00:01,500\nHello there,\nworld.\n\n2\n00:00:01,500 --> 01:01:01,000\nA < B & C -> D\n"
    )
    assert to_vtt(cues) == (
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:01.500\nHello there,\nworld.\n\n"
        "00:00:01.500 --> 01:01:01.000\nA &lt; B &amp; C -&gt; D\n"
    )
    assert to_srt([]) == ""
    assert to_vtt([]) == "WEBVTT\n"


def test_read_srt_round_trip():
    cues = split_caption(NARRATION, 0.25, 20.125)
    back = read_srt(to_srt(cues))
    assert [c.text for c in back] == [c.text for c in cues]
    for a, b in zip(back, cues, strict=True):
        assert a.start == pytest.approx(b.start, abs=0.0006) and a.end == pytest.approx(b.end, abs=0.0006)
    crlf = "\ufeff1\r\n00:00:01,000 --> 00:00:02,000\r\nHi\r\n\r\n2\r\n00:00:02,500 --> 00:00:03,000\r\nBye\r\n"
    assert read_srt(crlf) == [Cue(1.0, 2.0, "Hi"), Cue(2.5, 3.0, "Bye")]


def test_joining_acts():
    act1 = [Cue(0.0, 2.0, "one"), Cue(2.0, 5.5, "two runs past the act end")]
    act2 = [Cue(-0.5, 1.0, "three starts before its act"), Cue(1.0, 3.0, "four")]
    act3 = [Cue(0.0, 1.0, "five"), Cue(7.0, 8.0, "after the end")]
    joined = join_act_cues([(act1, 0.0), (act2, 5.0), (act3, 9.0)])
    assert joined == [
        Cue(0.0, 2.0, "one"),
        Cue(2.0, 5.0, "two runs past the act end"),
        Cue(5.0, 6.0, "three starts before its act"),
        Cue(6.0, 8.0, "four"),
        Cue(9.0, 10.0, "five"),
        Cue(16.0, 17.0, "after the end"),  # the last act is open-ended without lengths
    ]
    bounded = join_act_cues([(act1, 0.0), (act2, 5.0), (act3, 9.0)], [5.0, 4.0, 6.0])
    assert bounded[-1] == Cue(9.0, 10.0, "five")
    times = [t for c in bounded for t in (c.start, c.end)]
    assert times == sorted(times)


def test_write_subtitles_atomically(tmp_path):
    cues = [Cue(0.0, 1.0, "Hi.")]
    srt, vtt = tmp_path / "out" / "video.srt", tmp_path / "out" / "video.vtt"
    srt.parent.mkdir()
    srt.write_text("old", encoding="utf-8")
    write_subtitles(cues, srt, vtt)
    assert read_srt(srt.read_text(encoding="utf-8")) == cues
    assert vtt.read_text(encoding="utf-8").startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHi.")
    assert sorted(p.name for p in srt.parent.iterdir()) == ["video.srt", "video.vtt"]
