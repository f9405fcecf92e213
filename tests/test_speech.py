"""Speech services: real espeak-ng synthesis, the draft voice, recordings, the registry, the lexicon."""

from __future__ import annotations

import hashlib
import math
import struct
import subprocess
import sys
import wave
from pathlib import Path
from types import SimpleNamespace

import pytest
from manim_voiceover.modify_audio import get_duration
from manim_voiceover.tracker import AUDIO_OFFSET_RESOLUTION, VoiceoverTracker

import ncfvid.speech as speech
from ncfvid.speech import EngineUnavailable, registry, split_bookmarks, word_timings
from ncfvid.speech import espeakng as espeak_module
from ncfvid.speech.draft import DraftService, draft_seconds
from ncfvid.speech.espeak import EspeakService, synthesize
from ncfvid.speech.lexicon import apply_lexicon
from ncfvid.speech.recorded import RecordedService, find_recording

TEN_WORDS = "Neural collaborative filtering learns embeddings for every user and item."


def track(service, text: str, **kwargs) -> VoiceoverTracker:
    """What VoiceoverScene does with a voiceover: the service's wrapped call, then a tracker."""
    data = service._wrap_generate_from_text(text, **kwargs)
    scene = SimpleNamespace(renderer=SimpleNamespace(time=0.0))
    return VoiceoverTracker(scene, data, service.cache_dir)  # type: ignore[arg-type]


def wav_frames(path: Path) -> tuple[int, int]:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes(), wav.getframerate()


def words_of(data) -> list[str]:
    return [w for _, w in word_timings(data)]


def test_offset_resolution_matches_manim_voiceover():
    assert speech.AUDIO_OFFSET_RESOLUTION == AUDIO_OFFSET_RESOLUTION


# --- espeak-ng ---------------------------------------------------------------------------------


def test_espeak_synthesis_length_and_word_boundaries(tmp_path):
    service = EspeakService(cache_dir=tmp_path)
    data = service._wrap_generate_from_text(TEN_WORDS)
    audio = tmp_path / data["original_audio"]
    frames, rate = wav_frames(audio)
    seconds = frames / rate
    assert 3.0 <= seconds <= 5.0, seconds  # 10 words at 165 wpm is about 3.6 s
    assert get_duration(audio) == pytest.approx(seconds, abs=1e-6)  # what manim-voiceover measures

    bounds = data["word_boundaries"]
    words = [b for b in bounds if b["boundary_type"] == "Word"]
    assert [w["text"] for w in words] == [w.strip(".") for w in TEN_WORDS.split()]
    offsets = [w["audio_offset"] for w in words]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    assert all(TEN_WORDS[w["text_offset"] :].startswith(w["text"]) for w in words)
    text_offsets = [b["text_offset"] for b in bounds]
    assert text_offsets == sorted(set(text_offsets))  # strictly increasing, as interp1d needs
    assert bounds[-1]["boundary_type"] == "End"
    assert bounds[-1]["audio_offset"] == round(seconds * AUDIO_OFFSET_RESOLUTION)
    assert offsets[-1] < bounds[-1]["audio_offset"]


def test_espeak_bookmarks_resolve_between_their_neighbours(tmp_path):
    service = EspeakService(cache_dir=tmp_path)
    text = (
        'First we embed every user. <bookmark mark="mlp"/> Then a perceptron mixes them, '
        'and <bookmark mark="out"/>out comes a rating.<bookmark mark="end"/>'
    )
    tracker = track(service, text)
    by_word = {w: t for t, w in word_timings(tracker.data)}
    mlp = tracker.bookmark_times["mlp"]
    # The bookmark sits between "user." and "Then": after "user" starts, by the time "Then" starts
    # (espeak's SSML mark gives that moment exactly, after the sentence pause).
    assert by_word["user"] < mlp <= by_word["Then"]
    assert mlp == pytest.approx(by_word["Then"], abs=0.05)
    assert by_word["and"] < tracker.bookmark_times["out"] <= by_word["out"]
    assert tracker.bookmark_times["end"] == pytest.approx(tracker.duration, abs=0.05)
    assert tracker.time_until_bookmark("mlp") == pytest.approx(mlp)
    plain, marks = split_bookmarks(text)
    assert [name for name, _ in marks] == ["mlp", "out", "end"]
    assert "<" not in plain


def test_espeak_text_with_markup_characters(tmp_path):
    service = EspeakService(cache_dir=tmp_path)
    text = 'Profit & loss: <bookmark mark="x"/>is a < b, or b > a?'
    tracker = track(service, text)
    assert words_of(tracker.data) == ["Profit", "&", "loss", "is", "a", "b", "or", "b", "a"]
    by_word = {w: t for t, w in word_timings(tracker.data)}
    assert by_word["loss"] < tracker.bookmark_times["x"] <= by_word["is"] + 1e-9


def test_espeak_is_deterministic(tmp_path):
    first = EspeakService(cache_dir=tmp_path / "a")._wrap_generate_from_text(TEN_WORDS)
    # Speak something else in between: espeak-ng keeps state from one utterance to the next.
    synthesize("Something else entirely, to disturb the synthesiser's state.")
    second = EspeakService(cache_dir=tmp_path / "b")._wrap_generate_from_text(TEN_WORDS)
    one = (tmp_path / "a" / first["original_audio"]).read_bytes()
    two = (tmp_path / "b" / second["original_audio"]).read_bytes()
    assert hashlib.sha256(one).digest() == hashlib.sha256(two).digest()
    assert first["word_boundaries"] == second["word_boundaries"]


def test_espeak_cache_hit_does_not_synthesise_again(tmp_path):
    service = EspeakService(cache_dir=tmp_path)
    first = service._wrap_generate_from_text(TEN_WORDS)
    files = sorted(p.name for p in tmp_path.iterdir())
    again = EspeakService(cache_dir=tmp_path)  # a new scene, the same cache folder
    second = again._wrap_generate_from_text(TEN_WORDS)
    assert again.synth_count == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == files
    assert second["original_audio"] == first["original_audio"]
    # Other settings are another entry.
    slower = EspeakService(rate=120, cache_dir=tmp_path)
    assert slower._wrap_generate_from_text(TEN_WORDS)["original_audio"] != first["original_audio"]
    assert slower.synth_count == 1


def test_own_cache_does_not_grow_with_repeated_renders(tmp_path):
    # manim-voiceover's wrapper appends every voiceover to cache.json, hits included; ours stores
    # one entry file per distinct synthesis and nothing on a hit.
    for _ in range(3):
        for service in (EspeakService(cache_dir=tmp_path), DraftService(cache_dir=tmp_path)):
            service._wrap_generate_from_text(TEN_WORDS)
            service._wrap_generate_from_text("A second line.")
    assert not (tmp_path / "cache.json").exists()
    assert len(list((tmp_path / "entries").iterdir())) == 2  # the espeak lines; draft audio is recomputed
    # A broken entry (a crash mid-write) is synthesised again, not an error.
    for entry in (tmp_path / "entries").iterdir():
        entry.write_text("{", encoding="utf-8")
    fresh = EspeakService(cache_dir=tmp_path)
    assert fresh._wrap_generate_from_text(TEN_WORDS)["word_boundaries"]
    assert fresh.synth_count == 1


def test_espeak_cache_hit_keeps_this_calls_bookmarks(tmp_path):
    service = EspeakService(cache_dir=tmp_path)
    track(service, 'Hello <bookmark mark="a"/>world, how are you?')
    # Same words and bookmark place, another name: served from the cache, but the tracker must find "b".
    tracker = track(service, 'Hello <bookmark mark="b"/>world, how are you?')
    assert service.synth_count == 1
    assert "b" in tracker.bookmark_times


def test_espeak_options(tmp_path):
    with pytest.raises(ValueError, match="no voice"):
        EspeakService(voice="no-such-voice", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="rate"):
        EspeakService(rate=0, cache_dir=tmp_path)
    assert EspeakService(rate=60, cache_dir=tmp_path).rate == 80  # espeak-ng's slowest
    fast = EspeakService(rate=165, global_speed=2.0, cache_dir=tmp_path)
    assert fast.rate == 330 and fast.global_speed == 1.0  # no sox needed
    data = EspeakService(voice="en-gb", pitch=70, cache_dir=tmp_path).generate_from_text("Hello.", beat_id="x")
    assert data["input_data"]["config"]["pitch"] == 70


def test_missing_espeak_library_is_one_line(monkeypatch):
    monkeypatch.setattr(espeak_module.ctypes.util, "find_library", lambda name: None)

    def no_library(name, *args, **kwargs):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(espeak_module.ctypes, "CDLL", no_library)
    with pytest.raises(EngineUnavailable) as err:
        espeak_module._Library().ensure()
    message = str(err.value)
    assert "\n" not in message
    assert "apt-get install espeak-ng" in message and "--draft" in message


# --- draft -------------------------------------------------------------------------------------


def test_draft_duration_from_words_per_minute(tmp_path):
    service = DraftService(rate=150, cache_dir=tmp_path)
    text = " ".join(["word"] * 30)  # 30 words at 150 wpm: 12 s
    data = service._wrap_generate_from_text(text)
    frames, rate = wav_frames(tmp_path / data["original_audio"])
    assert frames / rate == pytest.approx(12.0)
    assert draft_seconds("Hi.") == pytest.approx(0.6)  # the minimum
    assert draft_seconds(TEN_WORDS, 165) == pytest.approx(10 * 60 / 165, abs=1 / 8000)
    starts = [t for t, _ in word_timings(data)]
    assert starts == sorted(starts) and len(starts) == 30
    assert starts[1] == pytest.approx(12.0 * 5 / len(text), abs=1e-6)  # proportional to characters


def test_draft_bookmarks_and_determinism(tmp_path):
    text = 'Half of the words <bookmark mark="half"/>are here, and the rest.'
    tracker = track(DraftService(cache_dir=tmp_path / "a"), text)
    plain, _ = split_bookmarks(text)
    assert tracker.bookmark_times["half"] == pytest.approx(tracker.duration * plain.index("are") / len(plain), abs=1e-6)
    other = DraftService(cache_dir=tmp_path / "b")._wrap_generate_from_text(text)
    a = (tmp_path / "a" / tracker.data["original_audio"]).read_bytes()
    assert a == (tmp_path / "b" / other["original_audio"]).read_bytes()


# --- recordings --------------------------------------------------------------------------------


def write_tone_wav(path: Path, pattern: list[tuple[float, bool]], rate: int = 16000) -> float:
    """Silence and 220 Hz tone in the given (seconds, loud) pieces; returns the length."""
    samples = []
    for seconds, loud in pattern:
        for i in range(int(seconds * rate)):
            samples.append(int(8000 * math.sin(2 * math.pi * 220 * i / rate)) if loud else 0)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return len(samples) / rate


def test_recorded_wav_timing_follows_the_file(tmp_path):
    recording = tmp_path / "intro.wav"
    length = write_tone_wav(recording, [(1.0, False), (1.5, True), (0.7, False), (1.5, True), (0.3, False)])
    cache = tmp_path / "cache"
    service = RecordedService({"intro": recording}, DraftService(cache_dir=cache), cache_dir=cache)
    text = 'One two three four five, <bookmark mark="b"/>six seven eight nine ten.'
    tracker = track(service, text, beat_id="intro")
    assert tracker.duration == pytest.approx(length, abs=1e-6)
    copied = cache / tracker.data["original_audio"]
    assert copied.read_bytes() == recording.read_bytes()
    starts = dict((w, t) for t, w in word_timings(tracker.data))
    assert 0.95 <= starts["One"] <= 1.05  # the leading silence is skipped
    assert 3.15 <= starts["six"] <= 3.3  # the second phrase starts after the pause
    assert 3.15 <= tracker.bookmark_times["b"] <= 3.3


def make_mp3(path: Path, seconds: float, rate: int = 22050) -> bool:
    import av
    import numpy as np

    codec = next((c for c in ("libmp3lame", "mp3") if c in av.codecs_available), None)
    if codec is None:
        return False
    try:
        with av.open(str(path), "w", format="mp3") as out:
            stream = out.add_stream(codec, rate=rate)
            stream.layout = "mono"
            t = np.arange(int(seconds * rate)) / rate
            signal = (8000 * np.sin(2 * np.pi * 330 * t)).astype(np.int16)
            for start in range(0, len(signal), 1152):
                frame = av.AudioFrame.from_ndarray(signal[None, start : start + 1152], format="s16p", layout="mono")
                frame.sample_rate = rate
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
    except (av.FFmpegError, ValueError):  # no mp3 encoder after all
        return False
    return True


def test_recorded_mp3_becomes_a_wav_of_its_real_length(tmp_path):
    source = tmp_path / "beat-1.mp3"
    if not make_mp3(source, 2.0):
        pytest.skip("PyAV has no MP3 encoder here")
    from ncfvid.speech.recorded import read_pcm

    pcm, rate, channels = read_pcm(source)
    decoded = len(pcm) / 2 / channels / rate
    assert decoded == pytest.approx(2.0, abs=0.1)
    cache = tmp_path / "cache"
    service = RecordedService(None, DraftService(cache_dir=cache), recordings_dir=tmp_path, cache_dir=cache)
    tracker = track(service, "An MP3 narration.", beat_id="beat-1")
    assert tracker.data["original_audio"].endswith(".wav")
    assert tracker.duration == pytest.approx(decoded, abs=1e-6)


def test_recorded_falls_back_and_finds_files(tmp_path):
    voiceover = tmp_path / "voiceover"
    voiceover.mkdir()
    write_tone_wav(voiceover / "a.WAV", [(0.5, True)])
    write_tone_wav(voiceover / "b.wav", [(0.4, True)])
    (voiceover / "b.mp3").write_bytes(b"not used: the wav wins")
    assert find_recording(voiceover, "a") == voiceover / "a.WAV"
    assert find_recording(voiceover, "b") == voiceover / "b.wav"
    assert find_recording(voiceover, "c") is None
    assert find_recording(tmp_path / "missing", "a") is None

    cache = tmp_path / "cache"
    service = RecordedService(
        {"Spoken by text.": voiceover / "b.wav"},
        DraftService(cache_dir=cache),
        recordings_dir=voiceover,
        cache_dir=cache,
    )
    assert track(service, "Anything at all.", beat_id="a").duration == pytest.approx(0.5)
    assert track(service, "Spoken by text.").duration == pytest.approx(0.4)
    fallback = track(service, "No recording for this beat.", beat_id="zzz")
    assert fallback.data["input_data"]["service"] == "ncfvid-draft"
    with pytest.raises(LookupError):
        RecordedService({}, None, cache_dir=cache).generate_from_text("Nothing.", beat_id="zzz")


# --- registry ----------------------------------------------------------------------------------


def test_registry_unknown_engine(tmp_path):
    with pytest.raises(EngineUnavailable) as err:
        registry.make_service("klingon", cache_dir=tmp_path, options={})
    message = str(err.value)
    assert "\n" not in message and "klingon" in message
    assert all(name in message for name in ("espeak", "draft", "gtts", "azure", "openai"))


def test_registry_missing_package(tmp_path, monkeypatch):
    real = registry.importlib.util.find_spec

    def find_spec(name, *args):
        return None if name.split(".")[0] == "gtts" else real(name, *args)

    monkeypatch.setattr(registry.importlib.util, "find_spec", find_spec)
    with pytest.raises(EngineUnavailable) as err:
        registry.make_service("gtts", cache_dir=tmp_path, options={"lang": "en"})
    message = str(err.value)
    assert "\n" not in message
    assert 'pip install "manim-voiceover[gtts]"' in message and "--draft" in message


def test_registry_makes_services(tmp_path):
    assert isinstance(registry.make_service("espeak", cache_dir=tmp_path, options={"voice": "en-gb"}), EspeakService)
    draft = registry.make_service("draft", cache_dir=tmp_path, options={"rate": 200, "voice": "en-us"})
    assert isinstance(draft, DraftService) and draft.rate == 200
    empty = tmp_path / "voiceover"
    empty.mkdir()
    assert isinstance(registry.make_service("draft", cache_dir=tmp_path, recordings_dir=empty), DraftService)
    write_tone_wav(empty / "intro.wav", [(0.3, True)])
    wrapped = registry.make_service("espeak", cache_dir=tmp_path, options={}, recordings_dir=empty)
    assert isinstance(wrapped, RecordedService) and isinstance(wrapped.fallback, EspeakService)
    assert {"espeak", "draft"} <= set(registry.available_engines())
    registry.check_engine("espeak")


# --- lexicon -----------------------------------------------------------------------------------


def test_lexicon_whole_words_case_sensitive_longest_first():
    lexicon = {"NCF": "N C F", "MLP": "M L P", "MLP layer": "perceptron layer", "C++": "C plus plus"}
    assert apply_lexicon("NCF.", lexicon) == "N C F."
    assert apply_lexicon("(NCF) and NCF's", lexicon) == "(N C F) and N C F's"
    assert apply_lexicon("NCFs ncf xNCF NCF2", lexicon) == "NCFs ncf xNCF NCF2"
    assert apply_lexicon("an MLP layer, an MLP", lexicon) == "an perceptron layer, an M L P"
    assert apply_lexicon("C++ code", lexicon) == "C plus plus code"
    assert apply_lexicon("x", {"a.b": "A"}) == "x"  # regex characters are literal
    assert apply_lexicon("a.b and axb", {"a.b": "A"}) == "A and axb"
    assert apply_lexicon("NCF", {"NCF": "M L P", "MLP": "wrong"}) == "M L P"  # one pass


def test_lexicon_leaves_bookmarks_alone():
    text = "See the NCF <bookmark mark=\"NCF\"/>model and <bookmark mark='MLP' />MLP."
    out = apply_lexicon(text, {"NCF": "N C F", "MLP": "M L P"})
    assert out == "See the N C F <bookmark mark=\"NCF\"/>model and <bookmark mark='MLP' />M L P."
    assert apply_lexicon(text, {}) == text


def test_registry_wraps_manim_voiceover_services_so_beat_id_is_safe(tmp_path, monkeypatch):
    import sys
    import types

    from manim_voiceover.services.base import SpeechService

    class FakeService(SpeechService):
        """Like gTTS: passes unknown keywords on to its engine, which would reject beat_id."""

        def __init__(self, lang: str = "en", **kwargs):
            super().__init__(**kwargs)
            self.lang = lang

        def generate_from_text(self, text, cache_dir=None, path=None, **kwargs):
            assert not kwargs, kwargs
            name = "fake.wav"
            write_tone_wav(Path(cache_dir or self.cache_dir) / name, [(0.25, True)])
            return {"input_text": text, "input_data": {"input_text": text, "service": "fake"}, "original_audio": name}

    module = types.ModuleType("manim_voiceover.services.fake")
    module.FakeService = FakeService
    monkeypatch.setitem(sys.modules, "manim_voiceover.services.fake", module)
    monkeypatch.setitem(registry.THIRD_PARTY, "fake", registry.ThirdParty("fake", "FakeService", ("json",), "fake"))
    service = registry.make_service("fake", cache_dir=tmp_path, options={"lang": "de", "rate": 165, "voice": "x"})
    assert isinstance(service, RecordedService) and service.fallback.lang == "de"
    tracker = track(service, 'Hello <bookmark mark="a"/>there.', beat_id="b1")
    assert tracker.duration == pytest.approx(0.25)


def test_checking_espeak_imports_neither_manim_nor_manim_voiceover() -> None:
    # Every render that synthesises checks the engine first; importing Manim for it cost 1.5-2 s.
    code = (
        "import sys\n"
        "from ncfvid.speech.registry import check_engine\n"
        "check_engine('espeak')\n"
        "print(sorted(m for m in ('manim', 'manim_voiceover') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
