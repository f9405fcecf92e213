"""Translations: a storyboard told in another language, from a file beside it.

`storyboards/ncf.de.yaml` translates `storyboards/ncf.yaml` into German: per act and beat id, the
narration, its `spoken:` form and anchor word, and the texts of the beat's visual; the title, the
words ncfvid writes by itself, and the voice (espeak-ng in the language unless told otherwise, with
a lexicon of its own). Numbers follow the language (1,6 in German).

The translation is merged into the storyboard and the result validated by the same models and rules
as any storyboard; every problem it causes is reported at its place in the translation file, with
the translation's own problems (unknown ids, missing beats, a language no voice speaks) beside them.
"""

from __future__ import annotations

import copy
import re
from difflib import get_close_matches
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationError

from ncfvid.diagnostics import Diagnostic, UserError, finalize, format_path
from ncfvid.fonts import check_controls
from ncfvid.schema import BUILT_IN_WORDS, Storyboard, Strict, validation_context
from ncfvid.speech.languages import decimal_mark, espeak_voice, language_name, missing_voice
from ncfvid.validationerrors import from_validation_error
from ncfvid.yamlsource import LoadedYaml, Positions, load_yaml

LANGUAGE = r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$"
Loc = tuple[str | int, ...]
Text = Annotated[str, Field(min_length=1, max_length=2000)]


class BeatTranslation(Strict):
    """One beat in the translation's language."""

    narration: Text | None = Field(None, description="What is said and captioned, in this language.")
    spoken: Text | None = Field(None, description="What is spoken instead, where it must differ from the caption.")
    at: str | None = Field(None, max_length=60, description="The word of this narration the animation starts at.")
    audio: str | None = Field(None, description="A recording of this narration, relative to the translation file.")
    show: dict[str, Any] = Field(
        default_factory=dict,
        description="Texts of the beat's visual by their key in the storyboard (title, caption, label, items, "
        "steps, ...), in the same shape; the visual's other keys stay as in the storyboard.",
    )


class ActTranslation(Strict):
    """One act's beats in the translation's language."""

    title: str | None = Field(None, max_length=120, description="The act's name.")
    beats: dict[str, BeatTranslation] = Field(default_factory=dict, description="The beats, by id.")


class VoiceTranslation(Strict):
    """How the translation is spoken: by default espeak-ng's voice of its language, at the storyboard's rate."""

    engine: str | None = Field(None, description="Speech engine (default: espeak; draft stays draft).")
    voice: str | None = Field(None, description="Voice name (default: espeak-ng's voice of the language).")
    rate: int | None = Field(None, ge=60, le=400, description="Words per minute (default: the storyboard's).")
    pause: float | None = Field(None, ge=0, le=5, description="Silence after each beat (default: the storyboard's).")
    options: dict[str, Any] | None = Field(None, description="Extra options passed to the speech service.")
    lexicon: dict[str, str] = Field(default_factory=dict, description="Pronunciations in this language.")


class Translation(Strict):
    """A storyboard in another language: the file `<storyboard>.<language>.yaml` beside it."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"title": "ncfvid translation"})

    language: str = Field(pattern=LANGUAGE, description="The language's code (de, fr, zh, pt-br, ...).")
    fallback: str | None = Field(
        None,
        pattern=LANGUAGE,
        description="The storyboard's own language: beats not translated keep its text (a warning each) "
        "instead of being an error.",
    )
    title: str | None = Field(None, min_length=1, max_length=200, description="The video's title.")
    decimal: Literal[".", ","] | None = Field(None, description="Decimal separator (default: the language's).")
    words: dict[str, str] = Field(
        default_factory=dict, description=f"The words ncfvid writes by itself: {', '.join(BUILT_IN_WORDS)}."
    )
    corner: str | None = Field(None, max_length=30, description="Text of the ratings table's top-left cell.")
    voice: VoiceTranslation = Field(default_factory=VoiceTranslation, description="How it is spoken.")
    acts: dict[str, ActTranslation] = Field(description="The acts, by id.")


# --- where translations are --------------------------------------------------------------------


def translation_path(storyboard: Path, language: str) -> Path:
    return storyboard.with_name(f"{storyboard.stem}.{language}.yaml")


def languages(storyboard: Path) -> list[str]:
    """The languages of the translations beside `storyboard`."""
    found = []
    for path in storyboard.parent.glob(f"{storyboard.stem}.*.yaml"):
        code = path.name[len(storyboard.stem) + 1 : -len(".yaml")]
        if re.match(LANGUAGE, code):
            found.append(code)
    return sorted(found)


def requested_languages(storyboard: Path, language: str | None) -> list[str | None]:
    """The languages `--lang` asks for (`all`: every translation); None for the storyboard's own."""
    if language != "all":
        return [language]
    found = languages(storyboard)
    if not found:
        message = f"--lang all: no translation beside the storyboard (write {storyboard.stem}.<language>.yaml)"
        raise UserError.single(str(storyboard), message)
    return list(found)


def module_name(language: str | None) -> str:
    """The generated module's file: scenes.py, scenes_de.py for a translation (a module name has no dot)."""
    return f"scenes_{language.replace('-', '_')}.py" if language else "scenes.py"


def translated_storyboard(path: Path) -> tuple[Path, str] | None:
    """(storyboard, language) when `path` is a translation (`x.de.yaml` beside `x.yaml`), else None."""
    stem, dot, code = path.stem.rpartition(".")
    base = path.with_name(f"{stem}.yaml")
    return (base, code) if dot and re.match(LANGUAGE, code) and base.is_file() else None


# --- positions: the merged storyboard's paths in the translation file --------------------------


def _to_merged(loc: Loc, story: Storyboard) -> Loc | None:
    """The storyboard path a translation path fills, or None (for paths of the translation alone)."""
    top = {"title": ("title",), "decimal": ("video", "decimal"), "corner": ("data", "corner")}
    if loc[:1] == ("words",):
        return ("video", "words", *loc[1:])
    if loc[:1] == ("voice",):
        return loc
    if len(loc) == 1 and loc[0] in top:
        return top[str(loc[0])]
    if loc[:1] != ("acts",) or len(loc) < 2:
        return ("acts",) if loc == ("acts",) else None
    acts = [act.id for act in story.acts]
    if loc[1] not in acts:
        return None
    a = acts.index(str(loc[1]))
    if len(loc) < 4 or loc[2] != "beats":
        return ("acts", a, *loc[2:])
    beats = [beat.id for beat in story.acts[a].beats]
    if loc[3] not in beats:
        return None
    return ("acts", a, "beats", beats.index(str(loc[3])), *loc[4:])


def merged_positions(translation: LoadedYaml, story: Storyboard) -> Positions:
    """The translation file's positions under the paths of the merged storyboard."""
    keys, values = {}, {}
    for loc in translation.positions:
        merged = _to_merged(loc, story)
        if merged is None:
            continue
        key = translation.positions.key(loc)
        entry = loc[:1] == ("acts",) and len(loc) in (2, 4)  # an act or a beat: named by its id, `loop:`
        values[merged] = key if entry and key is not None else translation.positions.value(loc)
        if key is not None:
            keys[merged] = key
    return Positions(keys, values)  # type: ignore[arg-type]


# --- the translation's own rules ---------------------------------------------------------------

Finding = tuple[Loc, str, str]  # (path in the translation file, message, severity)


def check_ids(story: Storyboard, tr: Translation) -> list[Finding]:
    """Acts and beats the storyboard does not have."""
    found: list[Finding] = []
    acts = {act.id: act for act in story.acts}
    for act_id, act_tr in tr.acts.items():
        if act_id not in acts:
            message = f"the storyboard has no act {act_id!r}{_hint(act_id, list(acts))}"
            found.append((("acts", act_id), message, "error"))
            continue
        beats = [beat.id for beat in acts[act_id].beats]
        for beat_id in act_tr.beats:
            if beat_id not in beats:
                message = f"act {act_id!r} has no beat {beat_id!r}{_hint(beat_id, beats)}"
                found.append((("acts", act_id, "beats", beat_id), message, "error"))
    return found


def _hint(name: str, choices: list[str]) -> str:
    close = get_close_matches(name, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else f"; its ids are: {', '.join(choices)}"


def check_coverage(story: Storyboard, tr: Translation) -> list[Finding]:
    """Beats without a narration in this language (errors, or warnings with `fallback`), and beats
    whose animation starts at a word of the storyboard's narration but not at one of the translation's."""
    found: list[Finding] = []
    name = language_name(tr.language)
    for act in story.acts:
        act_tr = tr.acts.get(act.id)
        for beat in act.beats:
            beat_tr = act_tr.beats.get(beat.id) if act_tr else None
            where: Loc = ("acts", act.id, "beats", beat.id) if beat_tr else ("acts", act.id) if act_tr else ("acts",)
            if beat_tr is None or beat_tr.narration is None:
                if tr.fallback:
                    message = f"beat {beat.id!r} of act {act.id!r} is not translated: it keeps the storyboard's text"
                    found.append((where, message, "warning"))
                else:
                    message = (
                        f"beat {beat.id!r} of act {act.id!r} has no {name} narration: translate it, or set "
                        "`fallback: en` (the storyboard's language) to keep its text"
                    )
                    found.append((where, message, "error"))
            elif beat.at and not beat_tr.at:
                message = (
                    f"the storyboard starts this beat's animation at the word {beat.at!r}: give `at:` the word "
                    "of this narration where it should start"
                )
                found.append((where, message, "error"))
    return found


def check_show_texts(story: Storyboard, raw: dict[str, Any], tr: Translation) -> list[Finding]:
    """A translated visual changes texts only: the same shape, strings where the storyboard has them."""
    found: list[Finding] = []
    for a, act in enumerate(story.acts):
        act_tr = tr.acts.get(act.id)
        for b, beat in enumerate(act.beats):
            beat_tr = act_tr.beats.get(beat.id) if act_tr else None
            if beat_tr is None:
                continue
            shown = raw["acts"][a]["beats"][b]["show"]
            for key, value in beat_tr.show.items():
                where: Loc = ("acts", act.id, "beats", beat.id, "show", key)
                texts = _texts_only(shown[key], value) if key in shown else _all_text(value)
                if key == "component" or not texts:
                    message = f"a translation changes the visual's texts only; {key!r} must stay as in the storyboard"
                    found.append((where, message + " (or be its texts, in the same shape)", "error"))
    return found


def _all_text(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _texts_only(original: Any, new: Any) -> bool:
    """Whether `new` differs from `original` only in its strings."""
    if isinstance(original, str) or original is None:
        return isinstance(new, str) or new is None
    if isinstance(original, list) and isinstance(new, list):
        return len(original) == len(new) and all(map(_texts_only, original, new))
    if isinstance(original, dict) and isinstance(new, dict):
        return set(new) <= set(original) and all(_texts_only(original[k], v) for k, v in new.items())
    return original == new


def check_voice(story: Storyboard, tr: Translation) -> list[Finding]:
    voice = merged_voice(story.voice.model_dump(mode="json"), tr)
    problem = missing_voice(voice["engine"], voice["voice"], tr.language)
    if problem is None:
        return []
    return [(("voice", "voice") if tr.voice.voice else ("language",), problem, "error")]


# --- the merged storyboard ---------------------------------------------------------------------


def merged_voice(base: dict[str, Any], tr: Translation) -> dict[str, Any]:
    """The storyboard's voice settings in the translation's language: its own voice and lexicon."""
    engine = "draft" if base.get("engine") == "draft" else "espeak"
    voice = {"engine": engine, "voice": espeak_voice(tr.language)}
    voice.update({key: base[key] for key in ("rate", "pause") if key in base})
    voice.update(tr.voice.model_dump(exclude_none=True, exclude={"lexicon"}))
    voice["lexicon"] = dict(tr.voice.lexicon)
    return voice


def merge(raw: dict[str, Any], story: Storyboard, tr: Translation) -> dict[str, Any]:
    """The storyboard's document with the translation's texts in place of its own."""
    merged = copy.deepcopy(raw)
    if tr.title is not None:
        merged["title"] = tr.title
    video = merged.setdefault("video", {})
    video["decimal"] = tr.decimal or decimal_mark(tr.language)
    if tr.words:
        video["words"] = dict(tr.words)
    if tr.corner is not None:
        merged["data"]["corner"] = tr.corner
    merged["voice"] = merged_voice(story.voice.model_dump(mode="json"), tr)
    for act in merged["acts"]:
        act_tr = tr.acts.get(act["id"])
        if act_tr is None:
            continue
        if act_tr.title is not None:
            act["title"] = act_tr.title
        for beat in act["beats"]:
            beat_tr = act_tr.beats.get(beat["id"])
            if beat_tr is not None:
                _merge_beat(beat, beat_tr)
    return merged


def _merge_beat(beat: dict[str, Any], tr: BeatTranslation) -> None:
    if tr.narration is not None:  # the storyboard's spoken form, anchor and recording are of its own words
        beat["narration"] = tr.narration
        for key in ("spoken", "at", "audio"):
            beat.pop(key, None)
    for key in ("spoken", "at", "audio"):
        if getattr(tr, key) is not None:
            beat[key] = getattr(tr, key)
    if tr.show:
        beat["show"] = _overlay(beat["show"], tr.show)


def _overlay(original: Any, new: Any) -> Any:
    if isinstance(original, dict) and isinstance(new, dict):
        return {**original, **{k: _overlay(original.get(k), v) for k, v in new.items()}}
    if isinstance(original, list) and isinstance(new, list) and len(original) == len(new):
        return [_overlay(o, n) for o, n in zip(original, new, strict=True)]
    return new


# --- loading -----------------------------------------------------------------------------------


def load_translation(storyboard: Path, language: str) -> Any:
    """The storyboard in `language` (a `ncfvid.pipeline.Loaded`); raise UserError listing every problem
    of the translation at its place in the translation file (and the storyboard's own, if any)."""
    from ncfvid.pipeline import Loaded, display_name, load

    base = load(storyboard)
    path = translation_path(storyboard, language)
    if not path.is_file():
        known = languages(storyboard)
        listed = f" (its translations: {', '.join(known)})" if known else ""
        message = f"no {language_name(language)} translation: write {display_name(path)}{listed}"
        raise UserError.single(base.yaml.filename, message)
    tr_yaml = load_yaml(path, filename=display_name(path))
    found = [_at(tr_yaml, finding) for finding in check_controls(tr_yaml.data)]
    try:
        tr = Translation.model_validate(tr_yaml.data)
    except ValidationError as err:
        raise UserError(finalize([*found, *from_validation_error(err, tr_yaml, Translation)])) from None
    if tr.language != language:
        message = f"this file translates into {tr.language!r} but is named for {language!r}: rename it or fix this"
        found.append(_at(tr_yaml, (("language",), message, "error")))
    entries = [*check_ids(base.story, tr), *check_coverage(base.story, tr)]  # about an entry: at its key
    found += [_at(tr_yaml, finding, key=True) for finding in entries]
    own = [*check_voice(base.story, tr), *check_show_texts(base.story, base.yaml.data, tr)]
    found += [_at(tr_yaml, finding) for finding in own]
    merged = merge(base.yaml.data, base.story, tr)
    view = LoadedYaml(merged, tr_yaml.source_lines, tr_yaml.filename, merged_positions(tr_yaml, base.story))
    try:
        story = Storyboard.model_validate(merged, context=validation_context(merged))
    except ValidationError as err:  # every one of them comes from the translation: the storyboard is valid
        raise UserError(finalize([*found, *from_validation_error(err, view, Storyboard)])) from None
    from ncfvid.rules import check_storyboard

    found += [_merged_at(finding, view, base.yaml) for finding in check_storyboard(story, path.parent)]
    found = finalize(found)
    if any(d.severity == "error" for d in found):
        raise UserError(found)
    return Loaded(storyboard, view, story, found, language)  # its places are the translation's


def _at(loaded: LoadedYaml, finding: Finding, key: bool = False) -> Diagnostic:
    """`finding` at its value in `loaded` (with `key`: at its key, where a whole entry is meant)."""
    loc, message, severity = finding
    line, col = (loaded.positions.key(loc) if key else None) or loaded.positions.locate(loc)
    return Diagnostic(loaded.filename, line, col, format_path(loc), message, severity)  # type: ignore[arg-type]


def _merged_at(finding: Finding, view: LoadedYaml, base: LoadedYaml) -> Diagnostic:
    """A rule's finding on the merged storyboard: in the translation where it translated that place
    (a beat's field, not the beat as a whole), else where the storyboard has it."""
    loc = finding[0]
    for end in range(len(loc), 0, -1):
        prefix = loc[:end]
        if view.positions.value(prefix) is not None and (prefix[0] != "acts" or len(prefix) >= 5):
            return _at(view, finding)
    return _at(base, finding)
