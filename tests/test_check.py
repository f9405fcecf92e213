"""`ncfvid check`: the layout rules on hand-made beat records (fast), and end to end on storyboards
built to break each rule (tests/layout/*.yaml), on the repository's storyboards and through `render`."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ncfvid.layoutrules import (
    EDGE_TOLERANCE,
    MIN_CONTRAST,
    OVERLAP_TOLERANCE,
    check_beats,
    contrast_ratio,
    min_cap_height,
    paint_contrast,
)
from ncfvid.records import LAYOUT_FORMAT, LayoutRecord

ROOT = Path(__file__).resolve().parent.parent
NCFVID = Path(sys.executable).parent / "ncfvid"
LAYOUT = ROOT / "tests" / "layout"
FRAME = [14.2222, 8.0]
SAFE_RIGHT = FRAME[0] * 0.9 / 2  # 6.4 with the default 5% margin
CAP_14 = 0.1422  # capital height of DejaVu Sans at Manim font size 14 (8.5 px at 480p)

# --------------------------------------------------------------------------------------------------
# The rules on hand-made records

_ids = itertools.count(1)


def text(
    label: str,
    box: list[float],
    *,
    cap: float = 0.3,
    contrast: float | None = 15.0,
    new: bool = True,
    owner: str | None = None,
    nudged: bool = False,
    ident: int | None = None,
) -> dict[str, Any]:
    return {
        "id": ident if ident is not None else next(_ids),
        "text": label,
        "owner": owner,
        "box": box,
        "cap": cap,
        "font_size": cap / 0.01016,
        "contrast": contrast,
        "new": new,
        "nudged": nudged,
    }


def shape(owner: str, box: list[float], *, new: bool = True) -> dict[str, Any]:
    return {
        "id": next(_ids),
        "kind": "Rectangle",
        "owner": owner,
        "box": box,
        "contrast": 5.0,
        "new": new,
        "nudged": False,
    }


def group(label: str, *, contrast: float | None = 5.0, size: float = 1.0, is_text: bool = False) -> dict[str, Any]:
    return {
        "id": next(_ids),
        "label": label,
        "text": is_text,
        "new": True,
        "nudged": False,
        "has_points": True,
        "contrast": contrast,
        "box": [0, 0, size, size] if contrast and contrast >= MIN_CONTRAST else None,
        "extent": [0, 0, size, size],
    }


def beat(
    index: int,
    texts: Sequence[dict[str, Any]] = (),
    shapes: Sequence[dict[str, Any]] = (),
    groups: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    return {"index": index, "frame": FRAME, "texts": list(texts), "shapes": list(shapes), "groups": list(groups)}


def messages(beats: list[dict[str, Any]], quality: str = "l", margin: float = 0.05) -> list[tuple[int, str]]:
    records = [LayoutRecord.from_json({"format": LAYOUT_FORMAT, **b}) for b in beats]
    return [(f.beat, f.message) for f in check_beats(records, margin, quality)]


def test_a_clean_beat_has_no_findings() -> None:
    assert messages([beat(0, [text("Title", [-2, 3, 2, 3.5]), text("Body", [-3, -1, 3, 1])])]) == []


def test_text_past_the_right_edge_names_the_text_the_edge_and_the_amount() -> None:
    found = messages([beat(0, [text("Predicted Rating: 1.37", [4.0, 0, SAFE_RIGHT + 0.42, 0.4])])])
    assert found == [
        (0, "text 'Predicted Rating: 1.37' extends 0.42 units past the right edge of the safe area"),
    ]


def test_text_off_the_frame_says_how_much_is_cut_off() -> None:
    (found,) = messages([beat(0, [text("Wide", [-8.0, 0, 0, 0.4])])])
    assert "past the left edge of the safe area" in found[1]
    assert "0.89 units of it are cut off by the frame" in found[1]


def test_edge_tolerance() -> None:
    inside = SAFE_RIGHT + EDGE_TOLERANCE * 0.9
    assert messages([beat(0, [text("Close", [0, 0, inside, 0.4])])]) == []


def test_a_smaller_margin_allows_more() -> None:
    box = [0, 0, SAFE_RIGHT + 0.3, 0.4]
    assert messages([beat(0, [text("x", box)])], margin=0.05)
    assert not messages([beat(0, [text("x", box)])], margin=0.02)


def test_shapes_past_the_edge_are_one_finding_per_element() -> None:
    lines = [shape("RatingsGrid", [-1, y, SAFE_RIGHT + 0.5 + y / 10, y]) for y in (0, 1, 2)]
    found = messages([beat(0, shapes=lines)])
    assert found == [(0, "element 'RatingsGrid' extends 0.70 units past the right edge of the safe area")]


def test_texts_of_one_element_past_the_edge_are_one_finding() -> None:
    texts = [
        text(name, [SAFE_RIGHT - 0.5, y, SAFE_RIGHT + d, y + 0.3], owner="RatingsGrid")
        for name, y, d in [("a", 0, 0.2), ("b", 1, 0.6)]
    ]
    found = messages([beat(0, texts)])
    assert found == [
        (0, "text 'b' and 1 other text of the RatingsGrid extend up to 0.60 units past the right edge of the safe area")
    ]


def test_two_texts_on_top_of_each_other() -> None:
    found = messages([beat(0, [text("Alice", [0, 0, 2, 0.4]), text("1.37", [1.5, 0.1, 2.5, 0.5])])])
    assert found == [(0, "text 'Alice' overlaps text '1.37' (0.50 x 0.30 units)")]


def test_texts_that_touch_or_barely_overlap_are_fine() -> None:
    gap = OVERLAP_TOLERANCE * 0.9
    assert messages([beat(0, [text("a", [0, 0, 2, 0.4]), text("b", [2 - gap, 0, 4, 0.4])])]) == []


def test_text_inside_a_box_is_fine() -> None:
    assert messages([beat(0, [text("ID", [0.2, 0.2, 1.8, 0.6])], [shape("Chip 'ID'", [0, 0, 2, 0.8])])]) == []


def test_transparent_texts_do_not_overlap() -> None:
    hidden = text("old", [0, 0, 2, 0.4], contrast=None, new=False)
    assert messages([beat(0, [hidden, text("new", [0, 0, 2, 0.4])])]) == []


def test_text_too_small_at_480p_but_not_at_1080p() -> None:
    small = [beat(0, [text("tiny", [0, 0, 1, 0.12], cap=0.12)])]
    (found,) = messages(small, "l")
    assert found[1].startswith("text 'tiny' is too small to read at 480p: capitals 7.2 px tall")
    assert "at least 8.0 px are needed" in found[1]
    assert messages(small, "h") == []


def test_the_layouts_smallest_font_is_readable_at_480p() -> None:
    assert CAP_14 >= min_cap_height("l")
    assert min_cap_height("l") == pytest.approx(8 * 8 / 480)
    assert min_cap_height("k") == pytest.approx(0.08)  # 1% of the frame at high resolutions


def test_small_texts_of_one_table_are_one_finding() -> None:
    texts = [text(f"t{i}", [i, 0, i + 0.5, 0.1], cap=0.1 + i / 1000, owner="RatingsGrid") for i in range(5)]
    (found,) = messages([beat(0, texts)])
    assert found[1].startswith("text 't0' and 4 other texts of the RatingsGrid are too small to read at 480p")
    assert "capitals 6.0 to 6.2 px tall" in found[1]


def test_text_in_the_background_colour_is_invisible() -> None:
    (found,) = messages([beat(0, [text("Unseen", [0, 0, 2, 0.4], contrast=1.0)])])
    assert found[1].startswith("text 'Unseen' is invisible")


def test_invisible_text_from_an_earlier_beat_is_not_reported_again() -> None:
    first = text("Unseen", [0, 0, 2, 0.4], contrast=1.0, ident=7)
    again = text("Unseen", [0, 0, 2, 0.4], contrast=1.0, ident=7, new=False)
    assert [b for b, _ in messages([beat(0, [first]), beat(1, [again])])] == [0]


def test_unpainted_helpers_are_not_invisible_elements() -> None:
    assert messages([beat(0, groups=[group("Rectangle", contrast=None)])]) == []


def test_an_element_in_the_background_colour() -> None:
    found = messages([beat(0, groups=[group("Circle", contrast=1.05)])])
    assert found == [
        (
            0,
            "element 'Circle' is invisible: it is drawn in the background's colour or nearly transparent "
            "(contrast with the background 1.05:1, needs 1.2:1)",
        )
    ]


def test_an_element_of_zero_size() -> None:
    assert messages([beat(0, groups=[group("Arrow", size=0.0)])]) == [(0, "element 'Arrow' has zero size")]


def test_a_problem_is_reported_at_the_first_beat_it_shows() -> None:
    wide = text("Wide", [0, 0, SAFE_RIGHT + 1, 0.4], ident=3)
    stays = dict(wide, new=False)
    moved = dict(wide, new=False, box=[0, 0, SAFE_RIGHT + 2, 0.4])
    found = messages([beat(0, [text("ok", [0, 1, 1, 1.4])]), beat(1, [wide]), beat(2, [stays]), beat(3, [moved])])
    assert [b for b, _ in found] == [1, 3]


def test_contrast() -> None:
    assert contrast_ratio([1, 1, 1], [0, 0, 0]) == pytest.approx(21.0)
    assert contrast_ratio([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]) == pytest.approx(1.0)
    background = [0.055, 0.067, 0.09]
    assert paint_contrast([1, 1, 1, 0.0], background) == pytest.approx(1.0)
    assert paint_contrast([1, 1, 1, 1.0], background) > 15


# --------------------------------------------------------------------------------------------------
# End to end: the command on storyboards (each runs Manim in subprocesses: a few seconds)


def run(*args: str | Path, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NCFVID), *map(str, args)], capture_output=True, text=True, cwd=cwd, check=False, timeout=timeout
    )


def check_json(storyboard: Path, out: Path) -> tuple[int, list[dict[str, Any]]]:
    result = run("check", storyboard.relative_to(ROOT), "--format", "json", "-o", out, "-j", "1")
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


@pytest.fixture(scope="module")
def layout_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, list[dict[str, Any]]]]:
    """`ncfvid check --format json` of every tests/layout storyboard, run side by side."""
    out = tmp_path_factory.mktemp("layout")
    boards = sorted(LAYOUT.glob("*.yaml"))
    with ThreadPoolExecutor(max_workers=len(boards)) as pool:
        results = pool.map(lambda path: check_json(path, out / path.stem), boards)
        return {path.stem: result for path, result in zip(boards, results, strict=True)}


def where(storyboard: str, *keys: str | int) -> tuple[int, int]:
    """(line, column) of a place in a layout storyboard, found the way ncfvid finds it."""
    from ncfvid.yamlsource import load_yaml

    return load_yaml(LAYOUT / f"{storyboard}.yaml").positions.locate(keys)


def errors(results: tuple[int, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    code, diagnostics = results
    found = [d for d in diagnostics if d["severity"] == "error"]
    assert code == (1 if found else 0)
    return found


@pytest.mark.render
def test_layout_storyboards_are_valid() -> None:
    result = run("validate", *sorted(p.relative_to(ROOT) for p in LAYOUT.glob("*.yaml")))
    assert result.returncode == 0, result.stderr


@pytest.mark.render
def test_label_off_the_edge(layout_results: dict) -> None:
    (diag,) = errors(layout_results["off_edge"])
    assert (diag["line"], diag["column"]) == where("off_edge", "acts", 0, "beats", 1)
    assert diag["file"] == "tests/layout/off_edge.yaml"
    assert re.fullmatch(
        r"act 'cards' beat 'long': text 'A heading so long that even at the smal…' extends (\d\.\d\d) units past "
        r"the left edge and \1 past the right edge of the safe area \(0\.\d\d units of it are cut off by the frame\)",
        diag["message"],
    ), diag["message"]


@pytest.mark.render
def test_two_labels_on_top_of_each_other(layout_results: dict) -> None:
    (diag,) = errors(layout_results["overlap"])
    # The overlap comes from the beat's nudge: reported there.
    assert (diag["line"], diag["column"]) == where("overlap", "acts", 0, "beats", 1, "nudge")
    assert diag["message"].startswith("act 'model' beat 'guess': text 'The small tower of layers' overlaps text '3.0'")
    assert diag["message"].endswith("(the beat's nudge moves it: shift [-4.6, 1.9], scale 1)")


@pytest.mark.render
def test_text_too_small(layout_results: dict) -> None:
    (diag,) = errors(layout_results["tiny_text"])
    assert (diag["line"], diag["column"]) == where("tiny_text", "acts", 0, "beats", 1)
    assert re.match(
        r"act 'intro' beat 'table': text '\w+' and \d+ other texts of the RatingsGrid are too small to read at "
        r"480p: capitals [\d.]+ to [\d.]+ px tall \(font size [\d.]+\), at least 8\.0 px are needed",
        diag["message"],
    ), diag["message"]


@pytest.mark.render
def test_element_the_colour_of_the_background(layout_results: dict) -> None:
    (diag,) = errors(layout_results["invisible"])
    assert (diag["line"], diag["column"]) == where("invisible", "acts", 0, "beats", 1)
    assert diag["message"] == (
        "act 'talk' beat 'points': text 'Unseen heading' is invisible: it is drawn in the background's colour "
        "or nearly transparent (contrast with the background 1.00:1, needs 1.2:1)"
    )


@pytest.mark.render
def test_a_nudge_that_pushes_labels_off_the_edge(layout_results: dict) -> None:
    found = errors(layout_results["nudge"])
    assert [d["message"].split(": ", 1)[1].split(" extends")[0] for d in found] == [
        "text 'Nudged title'",
        "text 'and its subtitle'",
    ]
    for diag in found:
        assert (diag["line"], diag["column"]) == where("nudge", "acts", 0, "beats", 0, "nudge")
        assert diag["message"].startswith("act 'intro' beat 'hello': ")
        assert "past the right edge" in diag["message"]
        assert diag["message"].endswith("(the beat's nudge moves it: shift [6, 0], scale 1)")


@pytest.mark.render
@pytest.mark.parametrize("storyboard", ["storyboards/ncf.yaml", "storyboards/bookclub.yaml"])
def test_repository_storyboards_check_clean(storyboard: str, tmp_path: Path) -> None:
    result = run("check", storyboard, "-o", tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.match(rf"{re.escape(storyboard)}: \d+ beats in \d+ acts, no layout problems", result.stdout)
    again = run("check", storyboard, "-o", tmp_path, "--format", "github")  # from the cache
    assert again.returncode == 0 and again.stdout == "", again.stdout + again.stderr


@pytest.mark.render
def test_text_output_and_github_format(tmp_path: Path) -> None:
    board = "tests/layout/nudge.yaml"
    text_run = run("check", board, "-o", tmp_path)
    assert text_run.returncode == 1
    line, column = where("nudge", "acts", 0, "beats", 0, "nudge")
    assert f"{board}:{line}:{column}: error: act 'intro' beat 'hello': text 'Nudged title' extends" in text_run.stderr
    assert text_run.stderr.rstrip().endswith("2 errors, 0 warnings")
    github = run("check", board, "-o", tmp_path, "--format", "github", "--act", "intro")
    assert github.returncode == 1
    assert github.stdout.startswith(f"::error file={board},line={line},col={column}::act 'intro' beat 'hello'")


@pytest.mark.render
def test_render_stops_on_layout_errors(tmp_path: Path) -> None:
    result = run("render", "tests/layout/nudge.yaml", "-o", tmp_path)
    assert result.returncode == 1
    assert "The layout check found problems (render anyway with --no-check)" in result.stderr
    assert "text 'Nudged title' extends" in result.stderr
    assert not list(tmp_path.glob("*.mp4"))


@pytest.mark.render
def test_render_finds_what_check_finds(tmp_path: Path) -> None:
    # `render` checks the layout each job records as it draws; `check` runs the acts on its own.
    board = "tests/layout/overlap.yaml"
    checked = run("check", board, "-o", tmp_path / "check")
    rendered = run("render", board, "--draft", "-o", tmp_path / "render")
    assert checked.returncode == rendered.returncode == 1
    problems = [line for line in checked.stderr.splitlines() if line.startswith(f"{board}:")]
    assert problems
    assert [line for line in rendered.stderr.splitlines() if line.startswith(f"{board}:")] == problems
    assert not (tmp_path / "render" / "cache" / "check").exists()  # no separate check ran
    assert not list((tmp_path / "render").glob("*.mp4"))


@pytest.mark.render
def test_cached_beats_without_layout_records_are_checked_apart(tmp_path: Path) -> None:
    first = run("render", "tests/data/tiny.yaml", "--draft", "-o", tmp_path)
    assert first.returncode == 0, first.stderr
    beats = sorted((tmp_path / "cache" / "beats").glob("*/*/layout.json"))
    assert beats
    for record in beats:  # as a cache from before layout records were kept
        record.unlink()
    again = run("render", "tests/data/tiny.yaml", "--draft", "-o", tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"Checked {len(beats)} beats: no layout problems" in again.stdout
    assert list((tmp_path / "cache" / "check" / "acts").glob("*.json"))  # by `ncfvid check`'s own run


def test_unknown_act_is_a_user_error(tmp_path: Path) -> None:
    result = run("check", "tests/data/tiny.yaml", "--act", "nope", "-o", tmp_path)
    assert result.returncode == 1
    assert "no act 'nope'; the acts are: intro, answer" in result.stderr


def _screen(record: LayoutRecord) -> tuple[list[Any], list[Any]]:
    texts = sorted((t.text, tuple(round(v, 2) for v in t.box or ()), t.contrast is not None) for t in record.texts)
    shapes = sorted((s.owner, tuple(round(v, 2) for v in s.box)) for s in record.shapes)
    return texts, shapes


@pytest.mark.render
@pytest.mark.parametrize(("storyboard", "act"), [("ncf", "architecture"), ("bookclub", "shelf")])
def test_settled_animations_end_where_manims_own_do(storyboard: str, act: str, tmp_path: Path) -> None:
    """The check settles each animation at its end instead of playing it; the screen at the end of
    every beat must be the one Manim's own (slower) skipping gives."""
    from ncfvid.check import run_acts
    from ncfvid.compiler import scene_class_name, write_module
    from ncfvid.pipeline import compile_prepared, load, prepare

    loaded = load(ROOT / "storyboards" / f"{storyboard}.yaml")
    module = write_module(compile_prepared(prepare(loaded, tmp_path / "cache")), tmp_path / "scenes.py")
    index, chosen = next((i, a) for i, a in enumerate(loaded.story.acts) if a.id == act)
    acts = [(act, scene_class_name(index, act), len(chosen.beats))]
    (fast,) = run_acts(module, acts, tmp_path / "fast", "l")
    (exact,) = run_acts(module, acts, tmp_path / "exact", "l", exact=True)
    assert fast.error is None and exact.error is None
    assert [b.beat for b in fast.beats] == [b.id for b in chosen.beats]
    for ours, manims in zip(fast.beats, exact.beats, strict=True):
        assert _screen(ours) == _screen(manims), ours.beat
        assert ours.time == pytest.approx(manims.time)
