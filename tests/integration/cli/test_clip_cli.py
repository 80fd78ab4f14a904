"""`klipstar clip` end to end on the fixture talk, and every bad input it must refuse cleanly."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import av
import opentimelineio as otio
import pytest
import srt

from chalicelib.cli.main import main
from chalicelib.settings import get_settings


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KLIPSTAR_ALLOW_PRIVATE_URLS", raising=False)
    monkeypatch.delenv("KLIPSTAR_ENV", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def clip_run(talk_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("cli") / "clips"
    code = main(
        [
            "clip", str(talk_path), "--max-clips", "2", "--min-duration", "12", "--max-duration", "40",
            "--platforms", "youtube_shorts,tiktok,square", "--out", str(out), "--quiet",
            "--export", "otio,fcpxml,srt",
        ]
    )
    assert code == 0
    return out, json.loads((out / "manifest.json").read_text())


def test_manifest_has_seed_webhook_shape(clip_run: tuple[Path, dict]) -> None:
    _, manifest = clip_run
    clips = manifest["clips"]
    assert 1 <= len(clips) <= 2
    for clip in clips:
        assert clip["id"].startswith("clip_")
        assert 0 <= clip["virality_score"] <= 100
        assert 12 - 0.5 <= clip["duration_seconds"] <= 40 + 0.5
        assert len(clip["title"]) <= 60
        assert 3 <= len(clip["hashtags"]) <= 5
        assert set(clip["platforms"]) == {"youtube_shorts", "tiktok", "square"}
        assert clip["platforms"]["tiktok"] == {
            "width": 1080, "height": 1920, "download_url": clip["platforms"]["youtube_shorts"]["download_url"]
        }
        assert (clip["platforms"]["square"]["width"], clip["platforms"]["square"]["height"]) == (1080, 1080)
        assert set(clip["sub_scores"]) == {"hook", "emotion", "value", "self_contained", "pacing"}
        assert clip["transcript"]["words"], "clip transcript carries word timings"
        assert Path(clip["thumbnail_url"]).is_file()
    starts = sorted((c["start"], c["end"]) for c in clips)
    for (_, end_a), (start_b, _) in itertools.pairwise(starts):
        assert end_a <= start_b, "selected clips must not overlap"


def test_manifest_has_the_talks_chapters(clip_run: tuple[Path, dict], talk_script: dict) -> None:
    chapters = clip_run[1]["chapters"]
    assert len(chapters) >= 3 and all(set(c) == {"start", "end", "title"} and c["title"] for c in chapters)
    assert all(a["end"] <= b["start"] for a, b in itertools.pairwise(chapters))
    # Each content topic of the script starts within 3 s of a chapter boundary.
    topics = [p for p in talk_script["paragraphs"] if p["kind"] == "content"]
    near = [t for t in topics if any(abs(c["start"] - t["start"]) <= 3.0 for c in chapters[1:])]
    assert len(near) >= len(topics) - 1, ([c["start"] for c in chapters], [t["start"] for t in topics])


def test_outputs_are_real_vertical_h264(clip_run: tuple[Path, dict]) -> None:
    _, manifest = clip_run
    for clip in manifest["clips"]:
        path = Path(clip["platforms"]["tiktok"]["download_url"])
        with av.open(str(path)) as container:
            video = container.streams.video[0]
            audio = container.streams.audio[0]
            assert (video.codec_context.width, video.codec_context.height) == (1080, 1920)
            assert video.codec_context.name == "h264"
            assert audio.codec_context.name == "aac"
            duration = float(container.duration) / av.time_base
        assert abs(duration - clip["duration_seconds"]) < 0.25
        # only the rendered files, thumbnails and manifest are left behind
    out = Path(manifest["clips"][0]["download_url"]).parent
    exports = {".otio", ".fcpxml", ".srt"}
    leftovers = [p.name for p in out.iterdir() if p.suffix not in {".mp4", ".jpg", ".json", *exports}]
    assert leftovers == []


def test_exports_beside_the_manifest(clip_run: tuple[Path, dict], talk_path: Path) -> None:
    """The timeline reads back through OpenTimelineIO (FCP X XML through its adapter) with each clip's source
    range to the frame; the SRT parses and its cues start and end on the clip's word timings."""
    out, manifest = clip_run
    exported = manifest["exports"]
    assert set(exported) == {"otio", "fcpxml", "srt"}
    clips = manifest["clips"]
    fps = manifest["media"]["fps"]
    for fmt, adapter in (("otio", "otio_json"), ("fcpxml", "fcpx_xml")):
        assert Path(exported[fmt]).parent == out
        timeline = otio.adapters.read_from_file(exported[fmt], adapter)
        edits = list(timeline.find_clips())
        assert len(edits) == len(clips)
        for edit, clip in zip(edits, clips, strict=True):
            assert edit.source_range.start_time.to_frames() == round(clip["start"] * fps)
            assert edit.source_range.end_time_exclusive().to_frames() == round(clip["end"] * fps)
            assert talk_path.name in edit.media_reference.target_url
            assert any(clip["title"] in m.name for m in edit.markers)
    for clip in clips:
        cues = list(srt.parse(Path(exported["srt"][clip["id"]]).read_text()))
        words = clip["transcript"]["words"]
        assert [t for c in cues for t in c.content.split()] == [w["text"] for w in words]
        n = 0
        for cue in cues:
            group = words[n : n + len(cue.content.split())]
            n += len(group)
            assert cue.start.total_seconds() == pytest.approx(group[0]["start"], abs=1e-3)
            assert cue.end.total_seconds() == pytest.approx(max(w["end"] for w in group), abs=1e-3)


def test_no_filler_selected(clip_run: tuple[Path, dict], talk_script: dict) -> None:
    _, manifest = clip_run
    fillers = [p for p in talk_script["paragraphs"] if p["kind"] == "filler"]
    for clip in manifest["clips"]:
        for filler in fillers:
            overlap = min(clip["end"], filler["end"]) - max(clip["start"], filler["start"])
            assert overlap <= 1.0, f"clip {clip['title']!r} covers filler {filler['text'][:40]!r}"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--platforms", "myspace"], "unknown platform"),
        (["--caption-style", "comic-sans"], "unknown caption_style"),
        (["--layout", "zoom"], "unknown layout"),
        (["--max-clips", "0"], "max_clips"),
        (["--max-clips", "51"], "max_clips"),
        (["--min-duration", "50", "--max-duration", "20"], "min_duration"),
        (["--export", "otio,docx"], "unknown export format"),
    ],
)
def test_bad_options_fail_before_any_work(
    args: list[str], needle: str, talk_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["clip", str(talk_path), "--out", str(out), "--quiet", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and needle in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('{"captions": {"font": "Comic Sans"}}', "style.captions.font"),
        ('{"captions": {"highlight_color": "blue"}}', "style.captions.highlight_color"),
        ('{"tighten": {"remove_silences": "yes"}}', "style.tighten.remove_silences"),
        ("[1, 2]", "must hold a JSON object"),
        ("{oops", "is not valid JSON"),
    ],
)
def test_bad_style_file_fails_before_any_work(
    content: str, needle: str, talk_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    style, out = tmp_path / "style.json", tmp_path / "out"
    style.write_text(content)
    assert main(["clip", str(talk_path), "--out", str(out), "--quiet", "--style", str(style)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and needle in err, err
    assert not out.exists()


def test_watermark_that_is_not_an_image_fails_cleanly(
    talk_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logo, out = tmp_path / "logo.png", tmp_path / "out"
    logo.write_text("a text file, not a logo\n" * 10)
    assert main(["clip", str(talk_path), "--out", str(out), "--quiet", "--watermark", str(logo)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not a PNG, JPEG or WebP image" in err and "[not_media]" in err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


@pytest.mark.parametrize(
    ("fixture", "code"),
    [
        ("not_media_path", "not_media"),
        ("no_audio_path", "no_audio_stream"),
        ("no_speech_path", "no_speech"),
        ("short_path", "source_too_short"),
        ("truncated_path", "corrupt_media"),
    ],
)
def test_bad_media_fails_cleanly(
    fixture: str, code: str, request: pytest.FixtureRequest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    media = request.getfixturevalue(fixture)
    out = tmp_path / "out"
    assert main(["clip", str(media), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"[{code}]" in err
    assert not out.exists()
    assert [p for p in tmp_path.iterdir()] == [], "no staging folder left behind"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://169.254.169.254/latest/meta-data/", "url_refused"),
        ("http://127.0.0.1:9/talk.mp4", "url_refused"),
        ("file:///etc/passwd", "url_refused"),
        ("http://klipstar-test.invalid/talk.mp4", "url_unreachable"),
    ],
)
def test_bad_urls_fail_cleanly(url: str, code: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["clip", url, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"[{code}]" in err
    assert not out.exists()


def test_unreachable_loopback_when_private_allowed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KLIPSTAR_ALLOW_PRIVATE_URLS", "true")
    get_settings.cache_clear()
    assert main(["clip", "http://127.0.0.1:9/talk.mp4", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "[url_unreachable]" in capsys.readouterr().err


def test_console_script_prints_one_line_and_exits_nonzero(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    proc = subprocess.run(
        [sys.executable, "-m", "chalicelib.cli.main", "clip", str(missing), "--out", str(tmp_path / "o")],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "nope.mp4" in proc.stderr


def test_prompt_finds_the_asked_for_part(talk_path: Path, talk_script: dict, tmp_path: Path) -> None:
    out = tmp_path / "prompt"
    code = main(
        ["clip", str(talk_path), "--prompt", "the part about pricing", "--max-clips", "1",
         "--platforms", "square", "--caption-style", "bold", "--out", str(out), "--quiet"]
    )
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    pricing = next(p for p in talk_script["paragraphs"] if p["topic"] == "pricing")
    assert len(manifest["clips"]) == 1
    clip = manifest["clips"][0]
    assert clip["prompt"] == "the part about pricing" and 0 < clip["relevance"] <= 1
    overlap = min(clip["end"], pricing["end"]) - max(clip["start"], pricing["start"])
    assert overlap >= 0.8 * (clip["end"] - clip["start"]), "the clip lies in the pricing paragraph"
    with av.open(clip["platforms"]["square"]["download_url"]) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (1080, 1080)


def test_prompt_with_no_match_completes_with_a_reason(
    talk_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "nomatch"
    code = main(["clip", str(talk_path), "--prompt", "quantum chromodynamics of giraffes on mars",
                 "--out", str(out), "--quiet", "--json"])
    assert code == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["clips"] == [] and manifest["reason"]
