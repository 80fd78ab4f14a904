"""Transcription, part 2 (one Map iteration): transcribe one chunk of the audio."""

from __future__ import annotations

from ..data import storage
from ..engine import transcribe
from ..engine.errors import NoSpeech
from ..engine.types import Transcript
from ..settings import get_settings
from .common import State, StepContext, ensure_still_there, step, workspace


@step("transcribe_chunk")
def handler(ctx: StepContext) -> State:
    """{project_id, tenant, audio_key, language, chunk: {index, start, end}} -> {index, key, words}."""
    chunk = ctx.state["chunk"]
    start, end = float(chunk["start"]), float(chunk["end"])
    with workspace("transcribe-chunk") as work:
        wav = storage.get_file(ctx.state["audio_key"], work / "audio.wav")
        try:
            part = transcribe.transcribe(
                wav, language=ctx.state.get("language"), settings=get_settings(), offset=start, duration=end - start
            )
        except NoSpeech:
            part = Transcript(language=ctx.state.get("language") or "en", duration=end, words=[])
    key = storage.work_key(ctx.tenant, ctx.project_id, f"transcript-part-{int(chunk['index']):04d}.json")
    ctx.put_json(key, part.to_dict())
    ensure_still_there(ctx)
    return {"index": int(chunk["index"]), "key": key, "words": len(part.words)}
