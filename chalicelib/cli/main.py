"""The `klipstar` command: clip a video locally, manage API keys, run the local service."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError
from pynamodb.exceptions import PynamoDBException

from ..engine.errors import EngineError
from ..settings import get_settings
from .errors import CliError
from .table import format_table

Handler = Callable[[argparse.Namespace], int]


CLIP_COLUMNS = [
    ("rank", "#"),
    ("virality_score", "score"),
    ("duration_seconds", "secs"),
    ("title", "title"),
    ("download_url", "file"),
]


class StageBars:
    """One tqdm bar per stage on stderr (only when stderr is a terminal); closed on success or error."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(total=total, desc=f"{stage:<10}", unit="step", file=sys.stderr)
        bar.total = total
        bar.n = done
        bar.refresh()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()


def style_from_args(args: argparse.Namespace) -> Any:
    """The Style of `--style FILE.json` with the shortcut flags on top (InvalidOptions naming the field)."""
    from ..engine.errors import InvalidOptions
    from ..engine.style import deep_merge, parse_style

    data: dict[str, Any] = {}
    if args.style:
        try:
            data = json.loads(Path(args.style).read_text(encoding="utf-8"))
        except OSError as exc:
            raise InvalidOptions(f"--style: cannot read {args.style}: {exc.strerror}") from None
        except ValueError:
            raise InvalidOptions(f"--style: {args.style} is not valid JSON") from None
        if not isinstance(data, dict):
            raise InvalidOptions(f"--style: {args.style} must hold a JSON object")
    flags: dict[str, Any] = {}
    if args.hook_title is not None:
        flags["hook_title"] = {"text": args.hook_title} if args.hook_title else {}
    if args.watermark:
        flags["watermark"] = {"url": args.watermark}
    if args.remove_silences or args.remove_fillers:
        flags["tighten"] = {"remove_silences": args.remove_silences, "remove_filler_words": args.remove_fillers}
    return parse_style(deep_merge(data, flags))


def cmd_clip(args: argparse.Namespace) -> int:
    """`klipstar clip INPUT`: every engine stage on one video; clips, thumbnails, manifest.json."""
    from ..engine.clipper import run_clipper
    from ..engine.exports import parse_formats
    from ..engine.types import ClipOptions

    platforms = [p.strip() for p in args.platforms.split(",") if p.strip()]
    options = ClipOptions(
        max_clips=args.max_clips,
        caption_style=args.caption_style,
        platforms=platforms,
        min_duration=args.min_duration,
        max_duration=args.max_duration,
        language=args.language,
        layout=args.layout,
    ).validate()
    export_formats = parse_formats(args.export or "")
    style = style_from_args(args)
    bars = StageBars(not args.json and not args.quiet)
    try:
        manifest = run_clipper(
            args.input, options, Path(args.out), settings=get_settings(), progress=bars, prompt=args.prompt,
            export_formats=export_formats,
            style=style,
        )
    finally:
        bars.close()
    if args.json:
        print(json.dumps(manifest, indent=2))
        return 0
    rows = [{"rank": i + 1, **clip} for i, clip in enumerate(manifest["clips"])]
    if not rows:
        print(f"No clips: {manifest.get('reason') or 'nothing matched'}")
        return 0
    print(format_table(rows, CLIP_COLUMNS))
    print(f"\nmanifest: {Path(args.out).resolve() / 'manifest.json'}")
    return 0


def add_clip_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("clip", help="clip a local file or URL into vertical captioned clips")
    p.add_argument("input", help="a video file, file:// or http(s) URL, or a YouTube/Vimeo/... page URL")
    p.add_argument("--max-clips", type=int, default=10, help="1-50 (default 10)")
    p.add_argument("--caption-style", default="karaoke", help="karaoke, bold, minimal, pop, boxed or none")
    p.add_argument("--style", default=None, metavar="FILE.json",
                   help="a style object (captions, hook_title, watermark, tighten), as in the API")
    p.add_argument("--hook-title", nargs="?", const="", default=None, metavar="TEXT",
                   help="show a hook title for the first seconds (default text: the clip's title)")
    p.add_argument("--watermark", default=None, metavar="IMAGE", help="a PNG/JPEG/WebP logo (path or URL)")
    p.add_argument("--remove-silences", action="store_true", help="cut pauses longer than 0.6 s")
    p.add_argument("--remove-fillers", action="store_true", help="cut um, uh, erm and the like")
    p.add_argument("--platforms", default="youtube_shorts,tiktok,reels", help="comma-separated platform names")
    p.add_argument("--layout", default="auto", help="auto, focus, split or fit (default auto)")
    p.add_argument("--min-duration", type=float, default=15.0, help="shortest clip in seconds (default 15)")
    p.add_argument("--max-duration", type=float, default=60.0, help="longest clip in seconds (default 60)")
    p.add_argument("--language", default=None,
                   help="language code of the talk, or auto to detect it (default: English with tiny.en; "
                        "others need the optional multilingual model)")
    p.add_argument("--prompt", default=None, help='find moments matching a request, e.g. "the part about pricing"')
    p.add_argument("--out", default="out/clips", help="output folder (default out/clips)")
    p.add_argument("--export", default="", help="also write editor exports beside the manifest, comma-separated: "
                   "otio, fcpxml, fcp7xml, edl (one timeline), srt, vtt, ass (one file per clip)")
    p.add_argument("--json", action="store_true", help="print the manifest as JSON instead of a table")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=cmd_clip)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="klipstar", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    add_clip_parser(sub)
    # subcommands that live in their own modules (imported here: they load their dependencies lazily)
    from . import demo, keys, serve, webhooks

    for module in (keys, serve, webhooks, demo):
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except EngineError as exc:
        print(f"klipstar: error: {exc.message} [{exc.code}]", file=sys.stderr)
        return 2
    except CliError as exc:
        print(f"klipstar: error: {exc}", file=sys.stderr)
        return exc.status
    except (BotoCoreError, PynamoDBException) as exc:
        detail = (str(exc).splitlines() or [""])[0]
        print(f"klipstar: error: the AWS call failed ({type(exc).__name__}): {detail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("klipstar: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
