"""Build the ffmpeg Lambda layer: a static ffmpeg under /opt/bin plus the caption fonts.

The binary is imageio-ffmpeg's static build (it has libass and libx264); the fonts come from the
font packages of chalicelib.engine.fonts (Roboto, Source Sans Pro, Lato). Layer contents are unpacked
under /opt, so the zip holds:

    bin/ffmpeg          -> /opt/bin/ffmpeg   (chalicelib.engine.ffmpeg.ffmpeg_exe() prefers it)
    fonts/*.ttf         -> /opt/fonts/

    python layers/build_ffmpeg_layer.py [--out layers/build]   # writes ffmpeg-layer.zip and the tree
"""

from __future__ import annotations

import argparse
import shutil
import stat
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # run as a script: the repository root holds chalicelib
    sys.path.insert(0, str(HERE.parent))


def layer_files() -> dict[str, Path]:
    """Archive name -> source file for every file of the layer."""
    import imageio_ffmpeg

    from chalicelib.engine.fonts import font_files

    files = {"bin/ffmpeg": Path(imageio_ffmpeg.get_ffmpeg_exe())}
    for ttf in font_files():
        files[f"fonts/{ttf.name}"] = ttf
    return files


def unzipped_bytes() -> int:
    """What the layer adds to a function's 250 MB unzipped budget."""
    return sum(p.stat().st_size for p in layer_files().values())


def build(out: Path) -> Path:
    """Write out/ffmpeg/ (the tree) and out/ffmpeg-layer.zip; returns the zip path."""
    tree = out / "ffmpeg"
    if tree.exists():
        shutil.rmtree(tree)
    archive = out / "ffmpeg-layer.zip"
    tmp = archive.with_suffix(".zip.tmp")
    tree.mkdir(parents=True)
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, src in layer_files().items():
            dest = tree / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
            mode = 0o755 if name.startswith("bin/") else 0o644
            dest.chmod(mode)
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with src.open("rb") as fh, zf.open(info, "w") as target:
                shutil.copyfileobj(fh, target, 1 << 20)
    tmp.replace(archive)
    return archive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "build")
    args = parser.parse_args(argv)
    archive = build(args.out)
    print(f"{archive}  ({archive.stat().st_size / 1e6:.1f} MB zipped, {unzipped_bytes() / 1e6:.1f} MB unzipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
