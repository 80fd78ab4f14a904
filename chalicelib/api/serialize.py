"""Rows → response models: kept for imports; the shapes live in chalicelib.shapes (shared with webhooks)."""

from __future__ import annotations

from ..shapes import (
                      clip_json,
                      clip_out,
                      project_clips,
                      project_out,
                      prompt_job_out,
                      publication_out,
                      template_out,
                      upload_out,
)

__all__ = ["clip_json", "clip_out", "project_clips", "project_out", "prompt_job_out", "publication_out", "template_out",
           "upload_out"]
