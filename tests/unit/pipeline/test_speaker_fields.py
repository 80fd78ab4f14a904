"""The render state carries each clip's layout keyframes and speaker labels once; finalize puts them in the clip."""

from __future__ import annotations

from pathlib import Path

from chalicelib.engine.clipper import RenderResult
from chalicelib.engine.types import LayoutKeyframe, Word
from chalicelib.pipeline.finalize import clip_transcript
from chalicelib.pipeline.render import speaker_fields

WORDS = [Word("Hi", 0.0, 0.3), Word("there.", 0.35, 0.7), Word("Hello!", 1.2, 1.6), Word("Yes.", 2.5, 2.8)]


def test_render_state_fields_round_trip_into_the_clip_transcript() -> None:
    labelled = [Word(w.text, w.start, w.end, speaker=s) for w, s in zip(WORDS, ["S1", "S1", "S2", "S1"], strict=True)]
    result = RenderResult(
        video=Path("x.mp4"), width=1080, height=1920, duration=3.0, platforms=["tiktok"],
        keyframes=[LayoutKeyframe(0.0, 3.0, "focus", "S1", [{"speaker": "S1", "x": 1, "y": 2, "w": 3, "h": 3}])],
        words=labelled,
        sentences=[{"speaker": "S1"}, {"speaker": "S2"}, {"speaker": "S1"}],
    )
    spoken = speaker_fields(result)
    assert spoken["speakers"] == ["S1", "S1", "S2", "S1"]
    assert spoken["layout_keyframes"][0]["layout"] == "focus"
    out = clip_transcript(WORDS, spoken)
    assert [w["speaker"] for w in out["words"]] == ["S1", "S1", "S2", "S1"]
    assert [(s["text"], s["speaker"]) for s in out["sentences"]] == [("Hi there.", "S1"), ("Hello!", "S2"),
                                                                     ("Yes.", "S1")]


def test_clip_transcript_without_labels_is_unchanged() -> None:
    out = clip_transcript(WORDS, {})
    assert out == {"text": "Hi there. Hello! Yes.", "words": [w.to_dict() for w in WORDS]}
    assert all("speaker" not in w for w in out["words"])
