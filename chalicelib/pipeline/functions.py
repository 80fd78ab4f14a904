"""Every Lambda function of the pipeline: its name, handler, packaging and ASL placeholder.

The single source for the local runtime (moto functions + the in-process seam), the ASL
substitutions and the deployment checks. `zip` functions are registered on the Chalice app (app.py)
and packaged by Chalice; `image` functions run from the container image built by infra/Dockerfile
(the engine's media/AI dependencies are far over Lambda's 250 MB zip limit).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StepFunction:
    name: str
    handler: str  # dotted path of the callable
    package: str  # zip | image
    placeholder: str  # DefinitionSubstitutions key in infra/pipeline.asl.json ("" if not in the ASL)
    memory_mb: int = 1024
    timeout_s: int = 900


FUNCTIONS: tuple[StepFunction, ...] = (
    StepFunction("ingest", "chalicelib.pipeline.ingest.handler", "image", "IngestFunctionArn", 2048),
    StepFunction("transcribe_plan", "chalicelib.pipeline.transcribe_plan.handler", "image",
                 "TranscribePlanFunctionArn", 2048, 600),
    StepFunction("transcribe_chunk", "chalicelib.pipeline.transcribe_chunk.handler", "image",
                 "TranscribeChunkFunctionArn", 4096),
    StepFunction("transcribe_merge", "chalicelib.pipeline.transcribe_merge.handler", "image",
                 "TranscribeMergeFunctionArn", 1024, 300),
    StepFunction("score", "chalicelib.pipeline.score.handler", "image", "ScoreFunctionArn", 3008),
    StepFunction("render", "chalicelib.pipeline.render.handler", "image", "RenderFunctionArn", 4096),
    StepFunction("prompt_search", "chalicelib.pipeline.prompt_search.handler", "image",
                 "PromptSearchFunctionArn", 2048, 600),
    StepFunction("finalize", "app.finalize", "zip", "FinalizeFunctionArn", 512, 300),
    StepFunction("notify", "app.notify", "zip", "NotifyFunctionArn", 512, 120),
    StepFunction("mark_failed", "app.mark_failed", "zip", "MarkFailedFunctionArn", 512, 120),
    StepFunction("prompt_finalize", "app.prompt_finalize", "zip", "PromptFinalizeFunctionArn", 512, 300),
    StepFunction("edit_plan", "chalicelib.pipeline.edit_plan.handler", "image", "EditPlanFunctionArn", 2048, 600),
    StepFunction("edit_finalize", "app.edit_finalize", "zip", "EditFinalizeFunctionArn", 512, 300),
)

ASL_PLACEHOLDERS: tuple[str, ...] = tuple(f.placeholder for f in FUNCTIONS if f.placeholder)

# Numeric DefinitionSubstitutions. The committed ASL keeps them quoted ("MaxConcurrency": "${RenderMaxConcurrency}")
# so the file is valid JSON as it is; `asl_with_number_placeholders` unquotes them for the deployed copy (and the
# local loader), where the substituted value must be a JSON number.
ASL_NUMBERS: tuple[str, ...] = ("RenderMaxConcurrency", "TranscribeMaxConcurrency")


def asl_with_number_placeholders(text: str) -> str:
    """The committed ASL text with each numeric placeholder unquoted (`"${X}"` -> `${X}`)."""
    for name in ASL_NUMBERS:
        text = text.replace(f'"${{{name}}}"', f"${{{name}}}")
    return text
