"""Transcription, part 1: split the audio at silences (VAD) into chunks for a parallel Map."""

from __future__ import annotations

from ..data import storage
from ..engine import transcribe
from ..settings import get_settings
from .common import State, StepContext, carry, set_stage, step, workspace


@step("transcribe_plan")
def handler(ctx: StepContext) -> State:
    """State + audio_key -> + chunks [{index, start, end}]."""
    set_stage(ctx.project_id, "transcribing", 15)  # raises ProjectGone when the row was deleted
    with workspace("transcribe-plan") as work:
        wav = storage.get_file(ctx.state["audio_key"], work / "audio.wav")
        ranges = transcribe.plan_chunks(wav, get_settings().transcribe_chunk_seconds)
    chunks = [{"index": i, "start": s, "end": e} for i, (s, e) in enumerate(ranges)]
    return carry(
        ctx.state,
        source_key=ctx.state["source_key"],
        audio_key=ctx.state["audio_key"],
        language=ctx.state.get("language"),
        chunks=chunks,
    )
