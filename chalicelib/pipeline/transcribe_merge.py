"""Transcription, part 3: merge the chunk transcripts in time order into the project's transcript."""

from __future__ import annotations

from ..data import storage
from ..engine import transcribe
from ..engine.types import Transcript
from .common import State, StepContext, carry, ensure_still_there, step, update_project


@step("transcribe_merge")
def handler(ctx: StepContext) -> State:
    """State + parts [{index, key}] -> + transcript_key (raises NoSpeech when every chunk was silent)."""
    parts = sorted(ctx.state["parts"], key=lambda p: int(p["index"]))
    transcripts = [Transcript.from_dict(storage.get_json(p["key"])) for p in parts]
    merged = transcribe.merge_transcripts(transcripts)
    key = ctx.put_json(storage.transcript_key(ctx.tenant, ctx.project_id), merged.to_dict())
    update_project(ctx.project_id, transcript_key=key, stage="scoring", progress=40)
    ensure_still_there(ctx)
    return carry(ctx.state, source_key=ctx.state["source_key"], audio_key=ctx.state["audio_key"], transcript_key=key)
