"""Styled renders, checked on decoded frames: highlight colour on the spoken word, captions at the top of
every platform's safe area, a hook title only for its seconds, the watermark in its corner, and the
thumbnail written by the same ffmpeg run. Plus the style's validation errors."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chalicelib.engine.captions import write_ass
from chalicelib.engine.errors import InvalidOptions, NotMedia, UrlRefused
from chalicelib.engine.ffmpeg import run_ffmpeg
from chalicelib.engine.platforms import PLATFORMS, merged_safe_area
from chalicelib.engine.reframe import plan_crop
from chalicelib.engine.render import WatermarkSpec, render_clip
from chalicelib.engine.style import Style, parse_style, resolve_style
from chalicelib.engine.types import Word
from chalicelib.engine.watermark import check_image, fetch_watermark
from chalicelib.settings import Settings, load_settings

from .conftest import CLIP_START, OUT_H, OUT_W, VERTICAL, decode_frames

SECONDS = 3.0
HOOK_SECONDS = 1.5
SAFE = merged_safe_area([PLATFORMS[n] for n in VERTICAL])
STYLE = {
    "captions": {"preset": "pop", "position": "top", "font": "Source Sans Pro", "color": "#FF00FF",
                 "highlight_color": "#00FF00"},
    "hook_title": {"text": "Price is a signal", "seconds": HOOK_SECONDS, "color": "#00FFFF", "position": "middle"},
    "watermark": {"url": "logo.png", "corner": "bottom_right", "scale": 0.15, "opacity": 1.0},
}  # fmt: skip


def mask(frame: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
    """Pixels close to a pure colour (each channel within 70)."""
    return np.all(np.abs(frame.astype(int) - np.array(rgb)) < 70, axis=2)


@pytest.fixture(scope="module")
def styled(clip_words: list[Word], talk_path: Path, render_dir: Path, settings: Settings) -> dict[str, Any]:
    logo = render_dir / "logo.png"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "color=c=yellow:s=200x100:d=0.1", "-frames:v", "1", str(logo)])
    style = Style.model_validate(STYLE)
    words = [w for w in clip_words if w.end <= SECONDS]
    ass = write_ass(words, style, OUT_W, OUT_H, SAFE, render_dir / "styled.ass", title="unused")
    plan = plan_crop(talk_path, CLIP_START, CLIP_START + SECONDS, OUT_W, OUT_H, settings=settings)
    out, thumb = render_dir / "styled.mp4", render_dir / "styled.jpg"
    render_clip(
        talk_path, CLIP_START, CLIP_START + SECONDS, plan, ass, out, settings=settings,
        watermark=WatermarkSpec(logo, "bottom_right", 0.15, 1.0, SAFE), thumbnail=thumb, thumbnail_at=1.0,
    )  # fmt: skip
    times = [round((w.start + w.end) / 2, 3) for w in words] + [0.5, 1.0, HOOK_SECONDS + 0.4]
    return {"words": words, "out": out, "thumb": thumb, "frames": decode_frames(out, sorted(set(times)))}


def test_highlight_colour_on_the_spoken_word(styled: dict[str, Any]) -> None:
    with_plain = 0
    for w in styled["words"]:
        frame = styled["frames"][round((w.start + w.end) / 2, 3)]
        green, magenta = mask(frame, (0, 255, 0)), mask(frame, (255, 0, 255))
        assert green.sum() > 300, f"no highlight while {w.text!r} is spoken"
        with_plain += magenta.sum() > 300  # the other words of the line, in the plain colour
        rows = np.flatnonzero(green.any(axis=1))
        assert rows.min() >= SAFE.top and rows.max() < OUT_H // 2
    assert with_plain >= len(styled["words"]) // 2


def test_top_captions_clear_every_overlay_zone(styled: dict[str, Any]) -> None:
    for w in styled["words"]:
        frame = styled["frames"][round((w.start + w.end) / 2, 3)]
        text = mask(frame, (0, 255, 0)) | mask(frame, (255, 0, 255))
        ys, xs = np.nonzero(text)
        for name in VERTICAL:
            zone = PLATFORMS[name].safe_area
            assert ys.min() >= zone.top and ys.max() < OUT_H - zone.bottom, name
            assert xs.min() >= zone.left and xs.max() < OUT_W - zone.right, name
        top_third = SAFE.top + (OUT_H - SAFE.top - SAFE.bottom) / 3
        assert ys.max() < top_third  # the top part of the safe area


def test_hook_title_only_for_its_seconds(styled: dict[str, Any]) -> None:
    before = mask(styled["frames"][0.5], (0, 255, 255))
    after = mask(styled["frames"][round(HOOK_SECONDS + 0.4, 3)], (0, 255, 255))
    assert before.sum() > 500
    ys = np.flatnonzero(before.any(axis=1))
    assert abs((ys.min() + ys.max()) / 2 - OUT_H / 2) < OUT_H * 0.15  # middle
    assert after.sum() < 20


def test_watermark_in_its_corner(styled: dict[str, Any]) -> None:
    logo = mask(styled["frames"][1.0], (255, 255, 0))
    ys, xs = np.nonzero(logo)
    assert logo.sum() > 0.8 * (0.15 * OUT_W) * (0.15 * OUT_W / 2)
    assert xs.max() < OUT_W - SAFE.right and xs.min() > OUT_W / 2
    assert ys.max() < OUT_H - SAFE.bottom and ys.min() > OUT_H / 2


def test_thumbnail_from_the_same_run(styled: dict[str, Any]) -> None:
    import av

    with av.open(str(styled["thumb"])) as c:
        thumb = next(c.decode(video=0)).to_ndarray(format="rgb24")
    assert thumb.shape == (OUT_H, OUT_W, 3)
    diff = np.abs(thumb.astype(int) - styled["frames"][1.0].astype(int)).mean()
    assert diff < 6  # the frame at 1.0 s of the output, captions included
    assert not [p.name for p in styled["thumb"].parent.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    ("data", "param"),
    [
        ({"captions": {"font": "Comic Sans"}}, "style.captions.font"),
        ({"captions": {"color": "#12345"}}, "style.captions.color"),
        ({"captions": {"highlight_color": "red"}}, "style.captions.highlight_color"),
        ({"hook_title": {"seconds": 0}}, "style.hook_title.seconds"),
        ({"watermark": {"corner": "top_right"}}, "style.watermark"),
        ({"tighten": {"silence_threshold": 0.01}}, "style.tighten.silence_threshold"),
        ({"captions": {"sizee": 40}}, "style.captions.sizee"),
    ],
)
def test_bad_style_names_the_field(data: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidOptions) as info:
        parse_style(data)
    assert f"invalid {param}:" in info.value.message


def test_resolve_style_deep_merges() -> None:
    template = {
        "captions": {"font": "Lato", "color": "#112233", "position": "top"},
        "tighten": {"remove_silences": True},
    }
    inline = {"captions": {"color": "#445566AA"}}
    style = resolve_style(template, inline, "bold")
    assert (style.captions.font, style.captions.color, style.captions.position) == ("Lato", "#445566AA", "top")
    assert style.preset == "bold" and style.tighten is not None and style.tighten.remove_silences
    assert resolve_style({"captions": {"preset": "pop"}}, None, "bold").preset == "pop"


@pytest.fixture(scope="module")
def text_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("www")
    (root / "logo.png").write_text("<html>not an image</html>" * 40)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_watermark_that_is_not_an_image(text_server: str, tmp_path: Path) -> None:
    local = load_settings(environ={"KLIPSTAR_ALLOW_PRIVATE_URLS": "true"})
    with pytest.raises(NotMedia, match="not a PNG, JPEG or WebP image"):
        fetch_watermark(f"{text_server}/logo.png", tmp_path, settings=local)
    assert not list(tmp_path.iterdir())  # nothing half-written left
    with pytest.raises(UrlRefused):  # production settings: the address guard refuses loopback
        fetch_watermark(f"{text_server}/logo.png", tmp_path, settings=load_settings(environ={}))
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)  # the signature, but no image
    with pytest.raises(NotMedia, match="does not decode"):
        check_image(fake)


def test_image_header_sizes_without_decoding(tmp_path: Path) -> None:
    from chalicelib.engine.watermark import image_size

    for name in ("a.png", "a.jpg"):
        path = tmp_path / name
        run_ffmpeg(["-y", "-f", "lavfi", "-i", "color=c=blue:s=321x123:d=0.1", "-frames:v", "1", str(path)])
        assert image_size(path.read_bytes()[:65536]) == (321, 123) and check_image(path) == (321, 123)
    big = tmp_path / "big.png"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "color=c=blue:s=4100x16:d=0.1", "-frames:v", "1", str(big)])
    with pytest.raises(NotMedia, match="at most 4096"):
        check_image(big)
