"""The clipping engine: pure media and AI code on plain files. Never imports boto3 or HTTP code.

One module per stage: ingest, probe, transcribe, segment, score, reframe, captions, render.
"""
