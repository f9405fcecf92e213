"""The espeak-ng library through ctypes: speech with word and mark timings, and nothing of Manim.

Kept apart from the manim-voiceover service (`ncfvid.speech.espeak`) so that checking that espeak-ng
can speak (`check_available`, run before every render that synthesises) does not import
manim-voiceover and with it Manim (1.5-2 s).

Determinism: espeak-ng keeps synthesis state (waveform phase, pitch flutter, ...) from one utterance to
the next, so the same text spoken twice in one process gives slightly different samples. Each
synthesis therefore runs in a forked child of a process whose library was initialised but never
spoke: every utterance starts from the same state and the same text and settings give byte-identical
WAV files. (Where fork is unavailable, or with ``isolate=False``, synthesis runs in-process.)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import struct
import threading
import warnings
from dataclasses import dataclass, field
from html import escape
from typing import Any

from ncfvid.speech import EngineUnavailable, is_word, token_spans

AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_DONT_EXIT = 0x8000
EVENT_LIST_TERMINATED, EVENT_WORD, EVENT_MARK = 0, 1, 3
CHARS_UTF8, SSML = 0x01, 0x10
POS_CHARACTER = 1
PARAM_RATE, PARAM_PITCH = 1, 3
EE_OK, EE_NOT_FOUND = 0, 2
RATE_MIN, RATE_MAX = 80, 450
DEFAULT_PITCH = 50

INSTALL_HINT = (
    "espeak-ng is not installed: run `apt-get install espeak-ng` (Debian/Ubuntu) or `brew install espeak-ng` "
    "(macOS), or render with --draft for a silent preview"
)
_LIBRARY_NAMES = ("libespeak-ng.so.1", "libespeak-ng.so", "libespeak-ng.1.dylib", "libespeak-ng.dylib")
#: Bumped when the files or boundaries this module writes change, so old cache entries are not used.
FORMAT_VERSION = 2  # 2: word boundaries carry where each word's sound ends


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


class SynthesisError(RuntimeError):
    """espeak-ng failed while speaking."""


@dataclass
class Synthesis:
    """What espeak-ng produced for one utterance."""

    pcm: bytes
    sample_rate: int
    words: list[tuple[int, int, int]] = field(default_factory=list)  # (1-based char position, length, ms)
    marks: list[tuple[str, int]] = field(default_factory=list)  # (mark name, ms)


class _Library:
    """The espeak-ng library: loaded and initialised once per process (it is global state)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lib: ctypes.CDLL | None = None
        self.sample_rate = 0
        self._pcm = bytearray()
        self._words: list[tuple[int, int, int]] = []
        self._marks: list[tuple[str, int]] = []
        self._callback = _CALLBACK(self._on_audio)

    def ensure(self) -> ctypes.CDLL:
        """Load and initialise the library (once); EngineUnavailable if it is missing or broken."""
        with self.lock:
            if self.lib is not None:
                return self.lib
            lib = _load()
            rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, None, INITIALIZE_DONT_EXIT)
            if rate <= 0:
                raise EngineUnavailable(
                    "espeak-ng is installed but cannot start (its data files are missing?): reinstall it with "
                    "`apt-get install --reinstall espeak-ng-data espeak-ng`, or render with --draft"
                )
            lib.espeak_SetSynthCallback(self._callback)
            self.sample_rate = rate
            self.lib = lib
            return lib

    def version(self) -> str:
        lib = self.ensure()
        path = ctypes.c_char_p()
        raw = lib.espeak_Info(ctypes.byref(path))
        return raw.decode("utf-8", "replace") if raw else "unknown"

    def _on_audio(self, wav: Any, count: int, events: Any) -> int:
        if count > 0 and wav:
            self._pcm += ctypes.string_at(wav, count * 2)
        index = 0
        while events[index].type != EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == EVENT_WORD:
                self._words.append((event.text_position, event.length, event.audio_position))
            elif event.type == EVENT_MARK and event.id.name:
                self._marks.append((event.id.name.decode("utf-8", "replace"), event.audio_position))
            index += 1
        return 0

    def speak(self, payload: str, voice: str, rate: int, pitch: int, ssml: bool) -> Synthesis:
        """Synthesise in this process."""
        lib = self.ensure()
        with self.lock:
            if not _select_voice(lib, voice):
                raise ValueError(f"espeak-ng has no voice {voice!r}: list them with `espeak-ng --voices`")
            lib.espeak_SetParameter(PARAM_RATE, rate, 0)
            lib.espeak_SetParameter(PARAM_PITCH, pitch, 0)
            self._pcm, self._words, self._marks = bytearray(), [], []
            data = payload.encode("utf-8") + b"\0"
            flags = CHARS_UTF8 | (SSML if ssml else 0)
            status = lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, flags, None, None)
            if status != EE_OK:
                raise SynthesisError(f"espeak_Synth failed with status {status}")
            lib.espeak_Synchronize()
            result = Synthesis(bytes(self._pcm), self.sample_rate, list(self._words), list(self._marks))
            self._pcm, self._words, self._marks = bytearray(), [], []
            return result


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # (priority byte, language string) pairs, ending with a 0 byte
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


def _languages(voice: _Voice) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    address = voice.languages
    if not address:
        return found
    while True:
        priority = ctypes.c_ubyte.from_address(address).value
        if priority == 0:
            return found
        language = ctypes.string_at(address + 1)
        found.append((priority, language.decode("utf-8", "replace")))
        address += 2 + len(language)


def _select_voice(lib: ctypes.CDLL, voice: str) -> bool:
    """Select `voice` ("en-us", "en-gb+f3", a voice file like "gmw/en", or a voice name).

    espeak_SetVoiceByName matches voice file names (British English is the file "en", so "en-gb" fails
    there); like the espeak-ng program, fall back to the voice whose language matches best.
    """
    if lib.espeak_SetVoiceByName(voice.encode("utf-8")) == EE_OK:
        return True
    base, plus, variant = voice.partition("+")
    wanted = base.strip().lower().replace("_", "-")
    best: tuple[int, str] | None = None
    table = lib.espeak_ListVoices(None)
    index = 0
    while table and table[index]:
        entry = table[index].contents
        index += 1
        identifier = (entry.identifier or b"").decode("utf-8", "replace")
        if not identifier or identifier.startswith("mb/"):  # MBROLA voices need extra programs
            continue
        name = (entry.name or b"").decode("utf-8", "replace").lower().replace("_", "-").replace(" ", "-")
        priorities = [p for p, language in _languages(entry) if language.lower() == wanted]
        if name == wanted:
            priorities.append(0)
        if priorities and (best is None or min(priorities) < best[0]):
            best = (min(priorities), identifier)
    if best is None:
        return False
    return lib.espeak_SetVoiceByName(f"{best[1]}{plus}{variant}".encode()) == EE_OK


def _load() -> ctypes.CDLL:
    names = list(_LIBRARY_NAMES)
    found = ctypes.util.find_library("espeak-ng")
    if found:
        names.insert(0, found)
    for name in names:
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.argtypes = []
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        lib.espeak_Info.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
        lib.espeak_Info.restype = ctypes.c_char_p
        return lib
    raise EngineUnavailable(INSTALL_HINT)


_LIBRARY = _Library()


def check_available() -> None:
    """Raise EngineUnavailable (one line, with the fix) unless espeak-ng can speak here."""
    _LIBRARY.ensure()


def espeak_version() -> str:
    return _LIBRARY.version()


def synthesize(
    payload: str,
    *,
    voice: str = "en-us",
    rate: int = 165,
    pitch: int = DEFAULT_PITCH,
    ssml: bool = False,
    isolate: bool = True,
) -> Synthesis:
    """Speak `payload` (plain text, or SSML with `ssml=True`).

    With `isolate` (the default where os.fork exists) the synthesis runs in a forked child so that it
    starts from the library's freshly initialised state: the result depends only on the arguments.
    """
    _LIBRARY.ensure()  # initialise here, before forking, and fail here if the library is missing
    if not isolate or not hasattr(os, "fork"):
        return _LIBRARY.speak(payload, voice, rate, pitch, ssml)
    return _speak_in_child(payload, voice, rate, pitch, ssml)


def _speak_in_child(payload: str, voice: str, rate: int, pitch: int, ssml: bool) -> Synthesis:
    read_fd, write_fd = os.pipe()
    with _LIBRARY.lock, warnings.catch_warnings():
        # Python >= 3.12 warns about fork() in a process with threads; the child only runs espeak-ng
        # and writes to a pipe, then leaves with os._exit.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            _LIBRARY.lock = threading.Lock()  # the parent held it across fork()
            os.close(read_fd)
            try:
                result = _LIBRARY.speak(payload, voice, rate, pitch, ssml)
                header = {"sample_rate": result.sample_rate, "words": result.words, "marks": result.marks}
                body = result.pcm
            except ValueError as err:
                header, body, code = {"error": "value", "message": str(err)}, b"", 2
            except BaseException as err:  # noqa: BLE001 - report anything to the parent
                header, body, code = {"error": "synth", "message": f"{type(err).__name__}: {err}"}, b"", 3
            blob = json.dumps(header).encode("utf-8")
            with os.fdopen(write_fd, "wb") as out:
                out.write(struct.pack("<Q", len(blob)) + blob + body)
        except BaseException:  # noqa: BLE001
            code = 4
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        raw = pipe.read()
    _, status = os.waitpid(pid, 0)
    if len(raw) < 8:
        raise SynthesisError(f"espeak-ng stopped while speaking (wait status {status}): {payload[:60]!r}")
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + size].decode("utf-8"))
    if "error" in header:
        if header["error"] == "value":
            raise ValueError(header["message"])
        raise SynthesisError(header["message"])
    return Synthesis(
        raw[8 + size :],
        int(header["sample_rate"]),
        [tuple(word) for word in header["words"]],  # type: ignore[misc]
        [(str(name), int(ms)) for name, ms in header["marks"]],
    )


def to_ssml(plain: str, marks: list[int]) -> tuple[str, list[int]]:
    """SSML for `plain` with ``<mark name="mN"/>`` at each offset of `marks` (in order, N its index), and
    for each SSML character the offset in `plain` it came from (for espeak's text positions)."""
    pieces: list[str] = []
    origin: list[int] = []
    cuts = sorted(enumerate(marks), key=lambda item: (item[1], item[0]))
    cursor = 0
    for index, offset in [*cuts, (-1, len(plain))]:
        for pos in range(cursor, offset):
            escaped = escape(plain[pos], quote=False)
            pieces.append(escaped)
            origin.extend([pos] * len(escaped))
        cursor = max(cursor, offset)
        if index >= 0:
            tag = f'<mark name="m{index}"/>'
            pieces.append(tag)
            origin.extend([offset] * len(tag))
    return "".join(pieces), origin


def word_starts(plain: str, events: list[tuple[int, int, int]], origin: list[int]) -> list[tuple[int, float]]:
    """(token start, seconds) for each spoken token of `plain`, from espeak's word events.

    espeak sometimes reports several events for one token (a number spoken as several words) or none
    (punctuation); each token gets its earliest event, and a word with no event gets a time
    interpolated from its neighbours by character position.
    """
    spans = token_spans(plain)
    if not spans:
        return []
    starts = [start for start, _ in spans]
    first: dict[int, float] = {}
    for position, _length, ms in events:
        index = position - 1
        offset = origin[index] if 0 <= index < len(origin) else (len(plain) if index >= 0 else 0)
        # the token containing offset, or the next one when offset falls on whitespace
        token = _bisect_right(starts, offset) - 1
        if token < 0 or offset >= spans[token][1]:
            token += 1
        if token >= len(spans):
            continue
        seconds = ms / 1000.0
        if token not in first or seconds < first[token]:
            first[token] = seconds
    keep = [i for i, (start, end) in enumerate(spans) if i in first or is_word(plain[start:end])]
    known = [(spans[i][0], first[i]) for i in keep if i in first]
    result = []
    for i in keep:
        start = spans[i][0]
        result.append((start, first[i] if i in first else _interpolate(known, start)))
    return result


def _bisect_right(values: list[int], x: int) -> int:
    lo, hi = 0, len(values)
    while lo < hi:
        mid = (lo + hi) // 2
        if x < values[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _interpolate(known: list[tuple[int, float]], x: int) -> float:
    if not known:
        return 0.0
    before = [(o, t) for o, t in known if o <= x]
    after = [(o, t) for o, t in known if o > x]
    if not before:
        return known[0][1]
    if not after:
        return before[-1][1]
    (x0, y0), (x1, y1) = before[-1], after[0]
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def clamp_rate(rate: float) -> int:
    """espeak-ng's rate in words per minute, within what it can do (80-450)."""
    return min(max(int(round(rate)), RATE_MIN), RATE_MAX)
