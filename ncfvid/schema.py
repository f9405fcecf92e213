"""The storyboard schema: strict pydantic models for everything an author edits.

The component models (what a beat shows) live in `ncfvid.components`, one registry entry each; this
module joins them into the `show:` field. Each model forbids unknown keys, each field carries a description
(it ends up in `ncfvid schema` and in editor tooltips), and each validator is named after the rule it
checks. Rules that need the whole storyboard (a beat naming a user of the table, unique ids) read the
table's users and items from the validation context, so pydantic reports them at the exact field.
"""

from __future__ import annotations

import re
from difflib import get_close_matches
from typing import Annotated, Any, Literal, Union

from pydantic import (
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from ncfvid.components import registry
from ncfvid.schemabase import (  # noqa: F401 - re-exported: the schema's building blocks
    HEX_COLOR,
    IDENTIFIER,
    CellRef,
    Color,
    Identifier,
    ScreenText,
    Strict,
    check_item_exists,
    check_user_exists,
    find_duplicate,
    rule_error,
    suggest,
)

# The words the drawing library writes on screen by itself (ncfvid.scenelib.layout.word).
BUILT_IN_WORDS = ("similarity", "true", "predicted", "error", "epoch", "epochs", "input")
DEFAULT_FONT = "DejaVu Sans"  # the scene library's own default (ncfvid.scenelib.layout.FONT)


# --- Settings ------------------------------------------------------------------------------------


class Theme(Strict):
    """Colours of the video. Components take their colours from here."""

    background: Color = Field("#0E1117", description="Background colour of every frame.")
    text: Color = Field("#ECEFF4", description="Colour of ordinary text.")
    muted: Color = Field("#8B93A7", description="Colour of secondary text and grid lines.")
    accent: Color = Field("#FFD166", description="Highlights: the target cell, the prediction, flows.")
    user: Color = Field("#58C4DD", description="Colour of everything about users.")
    item: Color = Field("#83C167", description="Colour of everything about items.")
    positive: Color = Field("#83C167", description="Good news: a shrinking error, a high value.")
    negative: Color = Field("#FC6255", description="Bad news: an error, a low value.")


class VideoSettings(Strict):
    """How the video looks."""

    quality: Literal["l", "m", "h", "k"] = Field(
        "l", description="Default render quality, as Manim's letters: l=480p15, m=720p30, h=1080p60, k=4K."
    )
    theme: Theme = Field(default_factory=Theme, description="Colours.")
    safe_margin: float = Field(
        0.05, ge=0, le=0.2, description="Fraction of the frame kept free of content at every edge."
    )
    aspect: Literal["16:9", "9:16", "1:1"] = Field(
        "16:9",
        description="Shape of the frame: 16:9 (landscape), 9:16 (a phone held upright) or 1:1 (square). "
        "Components lay out for it: the upright frame stacks what sits side by side.",
    )
    decimals: int | None = Field(
        None,
        ge=0,
        le=4,
        description="Decimals of every number shown (default: each table the fewest that show its values, at most 2).",
    )
    font: str = Field(
        DEFAULT_FONT,
        min_length=1,
        max_length=80,
        description="Font family of every text on screen. Characters it lacks come from another installed "
        "font (Pango's fallback), e.g. the Noto fonts for Chinese, Hebrew, Arabic or Hindi.",
    )
    decimal: Literal[".", ","] = Field(
        ".", description="Decimal separator of numbers on screen and in narration: '.' (1.6) or ',' (1,6)."
    )
    words: dict[str, Annotated[str, Field(min_length=1, max_length=30)]] = Field(
        default_factory=dict,
        description="The words ncfvid writes on screen by itself, in the video's language: "
        f"{', '.join(BUILT_IN_WORDS)} (e.g. {{epoch: Epoche}}).",
    )

    @field_validator("words")
    @classmethod
    def check_words_are_built_in(cls, words: dict[str, str]) -> dict[str, str]:
        for name in words:
            if name not in BUILT_IN_WORDS:
                hint = suggest(name, list(BUILT_IN_WORDS))
                raise rule_error(f"{name!r} is not a word ncfvid writes by itself{hint}", name)
        return words


class VoiceSettings(Strict):
    """How the narration is spoken. The command line can override the engine (--draft, --voice)."""

    engine: str = Field(
        "festival",
        description="Speech engine: 'festival' (offline, clear; the default), 'espeak' (offline, fast, many "
        "languages), 'draft' (silent, timed from `rate`), or a manim-voiceover service name (gtts, azure, "
        "openai, elevenlabs).",
    )
    voice: str | None = Field(
        None,
        description="Voice name understood by the engine; leave it out for the engine's own default "
        "(festival: cmu_us_slt_arctic_hts, espeak: en-us).",
    )
    rate: int = Field(165, ge=60, le=400, description="Speaking rate in words per minute.")
    pause: float = Field(0.4, ge=0, le=5, description="Silence after each beat's narration, in seconds.")
    options: dict[str, Any] = Field(
        default_factory=dict, description="Extra options passed to the speech service as keywords."
    )
    lexicon: dict[str, str] = Field(
        default_factory=dict,
        description="Pronunciations: each word or phrase on the left is spoken as the text on the "
        "right (say `NCF: N C F`). Captions and screen text keep the original.",
    )

    @field_validator("lexicon")
    @classmethod
    def check_lexicon_says_something(cls, lexicon: dict[str, str]) -> dict[str, str]:
        for word, spoken in lexicon.items():
            if not word.strip():
                raise rule_error("a lexicon entry needs a word or phrase on the left", word)
            if not any(ch.isalnum() for ch in spoken):
                raise rule_error(
                    f"the lexicon maps {word!r} to nothing that can be spoken ({spoken!r}): give the words to "
                    "say instead (e.g. `NCF: N C F`), or remove the entry",
                    word,
                )
        return lexicon


class Music(Strict):
    """Background music under the narration: it loops (or is cut) to fill its span, fades in and out,
    and ducks while someone speaks. The mix never clips."""

    file: str = Field(min_length=1, description="An audio file (WAV, MP3, OGG, FLAC, ...), relative to the storyboard.")
    volume: float = Field(-18, ge=-60, le=0, description="The music's level where nobody speaks, in dB.")
    duck: float = Field(-12, ge=-60, le=0, description="How much lower it goes while someone speaks, in dB.")
    fade: float = Field(1.5, ge=0, le=30, description="Seconds of fade-in at its start and fade-out at its end.")


class Scale(Strict):
    """The rating scale."""

    min: float = Field(1, description="Lowest possible rating.")
    max: float = Field(5, description="Highest possible rating.")

    @model_validator(mode="after")
    def check_scale_is_increasing(self) -> Scale:
        if self.max <= self.min:
            raise rule_error(f"the scale's max ({self.max:g}) must be above its min ({self.min:g})", "max")
        return self


class Data(Strict):
    """The data the story is about: who rated what."""

    corner: str = Field("User", max_length=30, description="Text of the table's top-left cell.")
    items: list[ScreenText] = Field(min_length=1, max_length=12, description="Item names: the columns.")
    ratings: dict[str, list[float | None]] = Field(
        min_length=1,
        description="One row per user, in order: the user's name, then one rating per item "
        "(null where the user has not rated the item).",
    )
    scale: Scale = Field(default_factory=Scale, description="The rating scale.")
    target: CellRef = Field(description="The missing rating the story predicts.")

    @field_validator("items")
    @classmethod
    def check_item_names_unique(cls, items: list[str]) -> list[str]:
        twice = find_duplicate(items)
        if twice is not None:
            index, name = twice
            raise rule_error(f"item {name!r} is listed twice; give each item a different name", index)
        return items

    @field_validator("ratings")
    @classmethod
    def check_table_size(cls, ratings: dict[str, list[float | None]]) -> dict[str, list[float | None]]:
        if len(ratings) > 12:
            raise ValueError(f"the table has {len(ratings)} users; at most 12 fit on screen")
        return ratings


# Bounds that keep training finite on a small machine. NumPy's full-batch training costs about
# 0.2-0.6 µs per parameter and epoch on one core (bench: ncf.yaml's 7,201 parameters x 400 epochs
# take 0.5 s; [64, 1024, 1024, 1] x 50 epochs 22 s), so 20 million parameter-epochs train in seconds.
MAX_LAYER_WIDTH = 4096
MAX_LAYERS = 12  # more than fit on screen side by side
MAX_PARAMETERS = 1_000_000  # 8 MB per array; training keeps four (weights, gradients, Adam's moments)
MAX_PARAMETER_EPOCHS = 20_000_000


class ModelSettings(Strict):
    """The NCF model trained on the table (He et al., 2017, "MLP" instance, on explicit ratings)."""

    embedding_size: int = Field(32, ge=1, le=512, description="Length of each 'DNA' (embedding) vector.")
    layers: list[int] = Field(
        default_factory=lambda: [64, 64, 32, 16, 1],
        min_length=3,
        max_length=MAX_LAYERS,
        description="Widths of the MLP tower from its input (the concatenated vector, twice the "
        "embedding size) through the ReLU layers to the single rating out.",
    )
    learning_rate: float = Field(0.001, gt=0, le=1, description="Adam's learning rate.")
    epochs: int = Field(400, ge=1, le=100_000, description="Passes over the known ratings.")
    seed: int = Field(0, ge=0, description="Random seed: the same seed gives the same model.")

    @field_validator("layers")
    @classmethod
    def check_layer_sizes_positive(cls, layers: list[int]) -> list[int]:
        for index, width in enumerate(layers):
            if width < 1:
                raise rule_error(f"layer sizes must be positive (at least 1 unit), got {width}", index)
            if width > MAX_LAYER_WIDTH:
                raise rule_error(
                    f"a layer of {width:,} units is too wide to train and draw; use at most {MAX_LAYER_WIDTH:,}", index
                )
        if layers[-1] != 1:
            raise rule_error(
                f"the last layer gives the rating and must have 1 unit, got {layers[-1]}; end the list with 1",
                len(layers) - 1,
            )
        return layers

    @model_validator(mode="after")
    def check_input_is_concatenation(self) -> ModelSettings:
        width = 2 * self.embedding_size
        if self.layers[0] != width:
            raise rule_error(
                f"the MLP's input is the user and item vectors concatenated, so its width must be twice "
                f"embedding_size ({width}), got {self.layers[0]}; make the first layer {width}",
                "layers",
                0,
            )
        return self

    @model_validator(mode="after")
    def check_training_is_finite(self) -> ModelSettings:
        layers = self.layers
        parameters = sum(a * b + b for a, b in zip(layers, layers[1:], strict=False))
        if parameters > MAX_PARAMETERS:
            raise rule_error(
                f"the MLP has {parameters:,} parameters; at most {MAX_PARAMETERS:,} train in seconds on a "
                "small machine (each costs memory four times over); use fewer or narrower layers",
                "layers",
            )
        if parameters * self.epochs > MAX_PARAMETER_EPOCHS:
            most = MAX_PARAMETER_EPOCHS // parameters
            raise rule_error(
                f"{self.epochs:,} epochs of an MLP with {parameters:,} parameters would train for about "
                f"{parameters * self.epochs * 3e-7:,.0f} s (0.3 µs per parameter and epoch); at most "
                f"{MAX_PARAMETER_EPOCHS:,} parameter-epochs train in seconds: use at most {most:,} epochs or a "
                "smaller MLP",
                "epochs",
            )
        return self


# --- Components: one model per visual step, from the registry; `component` selects it -----------

Component = Annotated[
    Union[tuple(entry.model for entry in registry().values())],  # noqa: UP007 - a union built at run time
    Field(discriminator="component"),
]


# A nudge corrects a layout within the frame (14.2 x 8 units); further moves the visual out of sight.
NudgeStep = Annotated[float, Field(ge=-100, le=100)]


class Nudge(Strict):
    """An author's correction to the automatic layout of a beat's visual."""

    shift: tuple[NudgeStep, NudgeStep] = Field((0.0, 0.0), description="Move by (x, y) scene units (frame: 14.2 x 8).")
    scale: float = Field(1.0, gt=0, le=4, description="Scale factor.")


class Beat(Strict):
    """One narration line and the visual step that goes with it."""

    id: Identifier = Field(description="Unique within its act; names recorded audio (voiceover/<stem>/<id>.wav).")
    narration: str = Field(
        min_length=1,
        max_length=2000,
        description="What is said and captioned. May quote computed values, e.g. {{ prediction }}.",
    )
    spoken: str | None = Field(
        None, max_length=2000, description="What is spoken instead, where it must differ from the caption."
    )
    show: Component = Field(description="The visual step, chosen by its `component` key.")
    seconds: float | None = Field(
        None, gt=0, le=600, description="Fixed length of the beat; default: as long as its narration."
    )
    at: str | None = Field(
        None, max_length=60, description="Start the animation when this word of the narration is spoken."
    )
    audio: str | None = Field(None, description="Recorded narration file for this beat, relative to the storyboard.")
    nudge: Nudge | None = Field(None, description="Move or scale this beat's visual by hand.")

    @model_validator(mode="after")
    def check_anchor_in_narration(self) -> Beat:
        if self.at is not None:
            words = re.findall(r"[\w'-]+", self.narration.lower())
            if self.at.lower() not in words:
                close = get_close_matches(self.at.lower(), words, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else "; 'at' must be a word of this beat's narration"
                raise rule_error(f"the word {self.at!r} does not occur in the narration{hint}", "at")
        return self


class Act(Strict):
    """A part of the video, rendered as one Manim scene."""

    id: Identifier = Field(description="Unique act id; names the scene and the cached clip.")
    title: str = Field(max_length=120, description="A human name for the act (not shown unless a beat shows it).")
    beats: list[Beat] = Field(min_length=1, description="The beats, in order.")
    music: Music | Literal[False] | None = Field(
        None, description="Other background music for this act only, or false for none (default: the video's)."
    )

    @field_validator("beats")
    @classmethod
    def check_beat_ids_unique(cls, beats: list[Beat]) -> list[Beat]:
        twice = find_duplicate([beat.id for beat in beats])
        if twice is not None:
            index, name = twice
            raise rule_error(f"beat id {name!r} is used twice in this act; give each beat its own id", index, "id")
        return beats


class Storyboard(Strict):
    """A whole explainer video: settings, the data it is about, and its acts in order."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"title": "ncfvid storyboard"},
    )

    title: ScreenText = Field(description="The video's title.")
    video: VideoSettings = Field(default_factory=VideoSettings, description="How the video looks.")
    voice: VoiceSettings = Field(default_factory=VoiceSettings, description="How the narration is spoken.")
    data: Data = Field(description="The ratings table the story is about.")
    model: ModelSettings = Field(default_factory=ModelSettings, description="The NCF model trained on the data.")
    acts: list[Act] = Field(min_length=1, description="The acts, in order.")
    music: Music | None = Field(None, description="Background music under the whole video.")
    thumbnail: str | None = Field(
        None,
        max_length=82,
        description="The beat whose last frame is the poster image: 'act.beat', or a beat id used once "
        "(default: the first beat).",
    )

    @field_validator("acts")
    @classmethod
    def check_act_ids_unique(cls, acts: list[Act]) -> list[Act]:
        twice = find_duplicate([act.id for act in acts])
        if twice is not None:
            index, name = twice
            raise rule_error(f"act id {name!r} is used twice; give each act its own id", index, "id")
        return acts

    @property
    def users(self) -> list[str]:
        return list(self.data.ratings)


def validation_context(raw: Any) -> dict[str, list[str]]:
    """Users and items read from the raw storyboard, for the reference rules (best effort)."""
    context: dict[str, list[str]] = {}
    data = raw.get("data") if isinstance(raw, dict) else None
    if isinstance(data, dict):
        if isinstance(data.get("ratings"), dict):
            context["users"] = [str(name) for name in data["ratings"]]
        if isinstance(data.get("items"), list):
            context["items"] = [str(name) for name in data["items"] if isinstance(name, str)]
    return context
