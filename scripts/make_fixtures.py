#!/usr/bin/env python3
"""Build the test media: a ~2.5 minute 16:9 spoken talk with a real face that moves and a scene cut.

    python scripts/make_fixtures.py                      # tests/fixtures/talk.mp4 + talk_script.json
    python scripts/make_fixtures.py --long-minutes 10 --out /tmp/long.mp4   # benchmark talk (not committed)

The voice is espeak-ng (one WAV per paragraph, trimmed, joined with fixed silences, so every paragraph's
start/end is known exactly). The picture is scikit-image's astronaut photo (the Haar frontal-face cascade
finds its face) composited by ffmpeg filters over a plain background whose colour changes at scene cuts.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
ESPEAK = "espeak-ng"

WIDTH, HEIGHT, FPS = 1280, 720, 25
PHOTO_SIZE = 400  # the astronaut photo is scaled to PHOTO_SIZE x PHOTO_SIZE
PHOTO_Y = (HEIGHT - PHOTO_SIZE) // 2
SAMPLE_RATE = 22050  # espeak-ng's native rate
GAP_SECONDS = 0.7
VOICE = "en-us"
WPM = 155
BACKGROUNDS = ("0x23324a", "0x6b4a2a")  # alternate per scene

# (kind, topic, text). Content paragraphs open with a hook line.
INTRO = [
    (
        "filler",
        "greeting",
        "Hi everyone, and welcome back to the channel. It is great to have you here again today.",
    ),
    (
        "filler",
        "housekeeping",
        "Before we start, some housekeeping. Please like and subscribe, and hit the bell so you never miss an episode.",
    ),
    (
        "filler",
        "sponsor",
        "This episode is sponsored by Cloud Nine Mattresses. Use the code talk ten for ten percent off your "
        "first order.",
    ),
]

CONTENT = [
    (
        "content",
        "pricing",
        "Here is the mistake almost every founder makes with pricing. They charge far too little. "
        "When I launched my first software product, I priced it at nine dollars a month because I was "
        "scared. Nobody took it seriously. Then I raised the price to ninety nine dollars, and sales "
        "actually went up. Customers told me the higher price made them trust us more. The lesson is "
        "simple. Price is a signal of value, so charge for the outcome you deliver, not for your costs.",
    ),
    (
        "content",
        "sleep",
        "Here is why sleep matters more for your memory than any study trick. While you sleep, your brain "
        "replays everything you learned during the day. Deep sleep moves those memories from short term "
        "storage into long term storage. In one experiment, students who slept after learning remembered "
        "forty percent more than students who stayed awake. So the next time you want to pull an all "
        "nighter before an exam, remember this. Sleeping is part of studying.",
    ),
    (
        "content",
        "printing press",
        "The printing press changed the world faster than the internet did. Around fourteen fifty, "
        "Johannes Gutenberg combined movable metal type with an old wine press. Within fifty years, "
        "printers across Europe had produced millions of books. Ideas that once took a lifetime to "
        "spread now travelled in months. Scientists could share discoveries, and ordinary people "
        "learned to read. It is amazing to think that one craftsman in a small workshop started "
        "a revolution.",
    ),
    (
        "content",
        "cooking disaster",
        "Let me tell you about the worst dinner party of my life. I wanted to impress my new neighbours, "
        "so I tried to cook a whole turkey for the very first time. I forgot to take the bag of giblets out, "
        "the oven started smoking, and the fire alarm went off just as the guests arrived. We ended up "
        "eating cereal on the balcony, laughing until we cried. Honestly, it was the best party we ever had.",
    ),
]

TRANSITION = ("filler", "transition", "Um, where was I. Okay.")
OUTRO = ("filler", "outro", "Thanks for watching, and see you next week. Bye for now.")

# Extra content for the long benchmark talk, so repeated blocks are not identical.
EXTRA_CONTENT = [
    (
        "content",
        "habits",
        "Here is the secret to building a habit that actually sticks. Make it so small that you cannot "
        "fail. Do one push up, read one page, write one sentence. Starting is the hardest part, and once "
        "you start you usually keep going. Tiny wins build the identity of someone who shows up every day.",
    ),
    (
        "content",
        "ocean",
        "Most of our planet is still a mystery. We have better maps of the surface of Mars than of our own "
        "ocean floor. Down in the deep sea there are fish that make their own light and creatures that "
        "live near volcanic vents without any sunlight at all. Every expedition finds new species.",
    ),
]


@dataclass
class Scene:
    start: float
    end: float
    x0: float
    x1: float
    background: str


def require_espeak() -> str:
    exe = shutil.which(ESPEAK)
    if not exe:
        print("espeak-ng is required: apt-get install -y espeak-ng")
        sys.exit(2)
    return exe


def synth(exe: str, text: str, path: Path, *, voice: str = VOICE, wpm: int = WPM, pitch: int = 50) -> np.ndarray:
    """Speak `text` to a WAV and return its samples (int16), trimmed of leading/trailing silence."""
    subprocess.run(
        [exe, "-v", voice, "-s", str(wpm), "-p", str(pitch), "-w", str(path), text],
        check=True,
        capture_output=True,
    )
    with wave.open(str(path), "rb") as w:
        if w.getframerate() != SAMPLE_RATE or w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise SystemExit(f"unexpected espeak-ng wav format in {path}")
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 300)
    if loud.size == 0:
        raise SystemExit(f"espeak-ng produced silence for {text[:40]!r}")
    return samples[loud[0] : loud[-1] + 1].copy()


def build_audio(
    exe: str, paragraphs: list[tuple[str, str, str]], tmp: Path, wav_out: Path, voice: str = VOICE
) -> list[dict]:
    """Synthesize each paragraph, join with GAP_SECONDS silences, write wav_out; return paragraph timing."""
    gap = np.zeros(int(GAP_SECONDS * SAMPLE_RATE), dtype=np.int16)
    pieces: list[np.ndarray] = [gap]
    pos = len(gap)
    out: list[dict] = []
    for i, (kind, topic, text) in enumerate(paragraphs):
        pitch = 45 + (i % 3) * 5
        samples = synth(exe, text, tmp / f"p{i:03d}.wav", voice=voice, pitch=pitch)
        start = pos / SAMPLE_RATE
        pieces.append(samples)
        pos += len(samples)
        end = pos / SAMPLE_RATE
        pieces.extend([gap])
        pos += len(gap)
        out.append({"kind": kind, "topic": topic, "text": text, "start": round(start, 4), "end": round(end, 4)})
    audio = np.concatenate(pieces)
    with wave.open(str(wav_out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(audio.tobytes())
    return out


def detect_face(photo_bgr: np.ndarray) -> list[int]:
    """The largest Haar frontal face in the scaled photo, as [x, y, w, h] inside the photo."""
    import cv2

    cascade = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))
    gray = cv2.cvtColor(photo_bgr, cv2.COLOR_BGR2GRAY)
    faces = cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(40, 40))
    if len(faces) == 0:
        raise SystemExit("the Haar cascade found no face in the astronaut photo")
    x, y, w, h = max(faces, key=lambda f: f[2] * f[3])
    return [int(x), int(y), int(w), int(h)]


def plan_scenes(paragraphs: list[dict], duration: float, every: float, max_cuts: int) -> list[Scene]:
    """Cut scenes at paragraph boundaries (mid-gap, frame aligned) near multiples of `every` seconds."""
    cuts: list[float] = []
    target = every
    bounds = [(paragraphs[i]["end"] + paragraphs[i + 1]["start"]) / 2 for i in range(len(paragraphs) - 1)]
    while target < duration - 20 and len(cuts) < max_cuts:
        best = min(bounds, key=lambda b: abs(b - target))
        best = round(round(best * FPS) / FPS, 4)
        if (not cuts or best > cuts[-1] + 20) and best < duration - 10:
            cuts.append(best)
        target += every
    edges = [0.0, *cuts, duration]
    scenes = []
    for i in range(len(edges) - 1):
        if i == 0:
            x0, x1 = 80.0, 500.0  # smooth pan across the frame
        elif i % 2 == 1:
            x0, x1 = 800.0, 720.0  # jump to the right, then drift slowly left
        else:
            x0, x1 = 120.0, 200.0  # jump back left, drift slowly right
        scenes.append(Scene(edges[i], edges[i + 1], x0, x1, BACKGROUNDS[i % 2]))
    return scenes


def x_expression(scenes: list[Scene]) -> str:
    """ffmpeg expression for the photo's left edge at time t (piecewise linear, one piece per scene)."""
    expr = ""
    for sc in reversed(scenes):
        piece = f"{sc.x0:g}+({sc.x1 - sc.x0:g})*(t-{sc.start:g})/{sc.end - sc.start:g}"
        expr = piece if not expr else f"if(lt(t,{sc.end:g}),{piece},{expr})"
    return expr


def build_video(audio_wav: Path, photo_png: Path, scenes: list[Scene], duration: float, out: Path) -> None:
    import imageio_ffmpeg

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    boxes = ",".join(
        f"drawbox=x=0:y=0:w=iw:h=ih:color={sc.background}:t=fill:enable='between(t,{sc.start:g},{sc.end:g})'"
        for sc in scenes[1:]
    )
    xexpr = x_expression(scenes).replace(",", "\\,")
    graph = (
        f"color=c={scenes[0].background}:s={WIDTH}x{HEIGHT}:r={FPS}:d={duration:.3f}[bg0];"
        + (f"[bg0]{boxes}[bg];" if boxes else "[bg0]null[bg];")
        + f"[1:v]format=rgba[ph];"
        f"[bg][ph]overlay=x='{xexpr}':y={PHOTO_Y}:eval=frame:shortest=0:eof_action=repeat,"
        f"format=yuv420p[v]"
    )
    tmp_out = out.with_name(out.stem + ".part" + out.suffix)
    cmd = [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
        "-i", str(audio_wav),
        "-loop", "1", "-framerate", str(FPS), "-i", str(photo_png),
        "-filter_complex", graph,
        "-map", "[v]", "-map", "0:a",
        "-t", f"{duration:.3f}",
        "-c:v", "libx264", "-preset", "medium", "-crf", "32", "-pix_fmt", "yuv420p", "-r", str(FPS),
        "-g", str(FPS * 4),
        "-c:a", "aac", "-b:a", "40k", "-ac", "1", "-ar", "22050",
        "-movflags", "+faststart",
        str(tmp_out),
    ]  # fmt: skip
    subprocess.run(cmd, check=True)
    tmp_out.replace(out)


def make_talk(
    paragraphs: list[tuple[str, str, str]],
    out: Path,
    script_out: Path | None,
    scene_every: float,
    max_cuts: int,
    voice: str = VOICE,
) -> dict:
    exe = require_espeak()
    import cv2
    import skimage.data

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="klipstar-fixture-") as tdir:
        tmp = Path(tdir)
        wav = tmp / "talk.wav"
        paras = build_audio(exe, paragraphs, tmp, wav, voice)
        with wave.open(str(wav), "rb") as w:
            duration = w.getnframes() / w.getframerate()
        rgb = skimage.data.astronaut()
        photo = cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), (PHOTO_SIZE, PHOTO_SIZE), interpolation=cv2.INTER_AREA)
        png = tmp / "astronaut.png"
        cv2.imwrite(str(png), photo)
        face = detect_face(photo)
        scenes = plan_scenes(paras, duration, scene_every, max_cuts)
        build_video(wav, png, scenes, duration, out)

    script = {
        "video": out.name,
        "duration": round(duration, 4),
        "width": WIDTH,
        "height": HEIGHT,
        "fps": FPS,
        "voice": f"espeak-ng -v {voice} -s {WPM}",
        "gap_seconds": GAP_SECONDS,
        "paragraphs": paras,
        "scene_cuts": [sc.start for sc in scenes[1:]],
        "scene_cut": scenes[1].start if len(scenes) > 1 else None,
        "photo": {
            "w": PHOTO_SIZE,
            "h": PHOTO_SIZE,
            "y": PHOTO_Y,
            "x_expression": x_expression(scenes),
            "x_note": "left edge x(t) is linear from x0 at scene start to x1 at scene end",
            "scenes": [sc.__dict__ for sc in scenes],
            "face_in_photo": face,
        },
    }
    if script_out is not None:
        script_out.write_text(json.dumps(script, indent=2) + "\n")
    return script


# A short Spanish talk (tests/fixtures/charla_es.mp4): other languages, accents in captions.
SPANISH = [
    ("filler", "greeting", "Hola a todos, y bienvenidos otra vez al canal."),
    (
        "content",
        "precios",
        "Este es el error más común de los fundadores con los precios. Cobran demasiado poco. "
        "Cuando lancé mi primer producto, el precio era de nueve dólares al mes, y nadie confiaba en él. "
        "Después subí el precio a noventa y nueve dólares, y las ventas también subieron. "
        "La lección es sencilla: el precio es una señal de calidad.",
    ),
    (
        "content",
        "sueño",
        "Dormir bien es más importante para la memoria que cualquier truco de estudio. "
        "Mientras duermes, tu cerebro repasa todo lo que aprendiste durante el día.",
    ),
    ("filler", "outro", "Gracias por ver el vídeo, y hasta la próxima."),
]


def photo_x(script: dict, t: float) -> float:
    """The photo's left edge at time t (the same function the ffmpeg expression computes)."""
    for sc in script["photo"]["scenes"]:
        if t < sc["end"] or sc is script["photo"]["scenes"][-1]:
            return sc["x0"] + (sc["x1"] - sc["x0"]) * (t - sc["start"]) / (sc["end"] - sc["start"])
    raise AssertionError("unreachable")


def talk_paragraphs() -> list[tuple[str, str, str]]:
    paras: list[tuple[str, str, str]] = list(INTRO)
    for i, c in enumerate(CONTENT):
        if i:
            paras.append(TRANSITION)
        paras.append(c)
    paras.append(OUTRO)
    return paras


def _estimate_seconds(text: str) -> float:
    """Spoken length of a paragraph at WPM (espeak-ng speaks ~2.74 words/s at -s 155), plus its gap."""
    return len(text.split()) / 2.74 + GAP_SECONDS


def long_paragraphs(minutes: float) -> list[tuple[str, str, str]]:
    """About `minutes` of talk: the intro, then content paragraphs in rotating order, then the outro."""
    pool = CONTENT + EXTRA_CONTENT
    paras: list[tuple[str, str, str]] = list(INTRO)
    seconds = sum(_estimate_seconds(p[2]) for p in (*INTRO, OUTRO))
    i = 0
    while True:
        block = [pool[(i * 3) % len(pool)], TRANSITION]
        block_seconds = sum(_estimate_seconds(p[2]) for p in block)
        if seconds + block_seconds / 2 > minutes * 60:
            break
        paras.extend(block)
        seconds += block_seconds
        i += 1
    paras.append(OUTRO)
    return paras


# ---- two-person conversation (speaker-aware framing) ------------------------------------------------

# (speaker, text): varied turn lengths, one-word interjections ("Really?", "Exactly.") inside the other
# person's turn, and a rapid exchange of short questions and answers near the end.
CONVERSATION = [
    ("A", "Welcome back to the show. Today I am talking with an old friend about building things that last."),
    ("B", "Thanks for having me. I have been looking forward to this conversation for weeks, honestly."),
    ("A", "So how did your first company start?"),
    ("B", "It started in a garage, like every story you have heard. We had one laptop, a broken printer, "
          "and a lot of stubborn optimism."),
    ("A", "Really?"),
    ("B", "Really. And the printer never got fixed. We sold the company before anyone touched it."),
    ("A", "What was the hardest lesson from those years?"),
    ("B", "Hiring. You become the people you hire, so hire slowly and with a lot of care."),
    ("A", "Exactly."),
    ("B", "Every rushed hire cost us half a year of work."),
    ("A", "Quick questions. Coffee or tea?"),
    ("B", "Tea."),
    ("A", "Morning or night?"),
    ("B", "Night, always."),
    ("A", "Books or podcasts?"),
    ("B", "Books."),
    ("A", "City or country?"),
    ("B", "Country, every time."),
    ("A", "Last one. Cats or dogs?"),
    ("B", "Dogs, obviously."),
    ("A", "Great answers. Thank you so much for coming on the show today, this was a lot of fun."),
    ("B", "Thank you. It was a real pleasure."),
]
CONV_VOICES = {"A": ("en-us", 150, 35), "B": ("en-gb+f3", 165, 70)}  # espeak-ng voice, words/min, pitch
CONV_GAP, CONV_RAPID_GAP = 0.35, 0.2  # silence between turns (rapid exchange: shorter)
CONV_PHOTO = 360
CONV_Y = 170
CONV_SCENES = (  # (left photo x, right photo x, background); a scene cut after turn CONV_CUT_AFTER
    (120, 800, "0x2b3a4f"),
    (170, 750, "0x4f3b2b"),
)
CONV_CUT_AFTER = 5
MOUTH_COLOUR = (70, 18, 28)  # RGB of the open mouth


def conversation_photos() -> tuple[np.ndarray, np.ndarray]:
    """Two real face photos (RGB, CONV_PHOTO square): the astronaut, and a mirrored, hue-shifted copy."""
    import cv2
    import skimage.data

    head = skimage.data.astronaut()[0:320, 64:384]  # head and shoulders
    a = cv2.resize(head, (CONV_PHOTO, CONV_PHOTO), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(np.ascontiguousarray(a[:, ::-1]), cv2.COLOR_RGB2HSV)
    hsv[..., 0] = (hsv[..., 0].astype(int) + 100) % 180  # another suit and backdrop colour
    b = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return a, b


def _envelope(samples: np.ndarray, n_frames: int) -> np.ndarray:
    """Per video frame loudness (RMS) of `samples`, scaled to 0..1 by its 95th percentile over speech."""
    hop = SAMPLE_RATE / FPS
    env = np.zeros(n_frames)
    x = samples.astype(np.float64)
    for i in range(n_frames):
        seg = x[int(i * hop) : int((i + 1) * hop)]
        env[i] = np.sqrt(np.mean(seg**2)) if seg.size else 0.0
    ref = np.percentile(env[env > 0], 95) if (env > 0).any() else 1.0
    return np.clip(env / max(ref, 1e-9), 0.0, 1.0)


def make_conversation(out: Path, script_out: Path) -> dict:
    """Two faces side by side, two espeak-ng voices taking turns, each mouth opening with its own voice."""
    import cv2
    import imageio_ffmpeg

    exe = require_espeak()
    photos = conversation_photos()
    faces_in_photo = [detect_face(cv2.cvtColor(p, cv2.COLOR_RGB2BGR)) for p in photos]
    with tempfile.TemporaryDirectory(prefix="klipstar-conv-") as tdir:
        tmp = Path(tdir)
        tracks: dict[str, list[np.ndarray]] = {"A": [], "B": []}
        turns: list[dict] = []
        pos = int(0.6 * SAMPLE_RATE)
        clips: list[tuple[str, int, np.ndarray]] = []
        for i, (who, text) in enumerate(CONVERSATION):
            voice, wpm, pitch = CONV_VOICES[who]
            samples = synth(exe, text, tmp / f"t{i:02d}.wav", voice=voice, wpm=wpm, pitch=pitch)
            clips.append((who, pos, samples))
            turns.append({"speaker": who, "text": text, "start": round(pos / SAMPLE_RATE, 4),
                          "end": round((pos + len(samples)) / SAMPLE_RATE, 4)})
            rapid = len(text.split()) <= 4 and i + 1 < len(CONVERSATION) and len(CONVERSATION[i + 1][1].split()) <= 4
            pos += len(samples) + int((CONV_RAPID_GAP if rapid else CONV_GAP) * SAMPLE_RATE)
        total = pos + int(0.5 * SAMPLE_RATE)
        for who in tracks:
            track = np.zeros(total, dtype=np.int32)
            for w, p0, s in clips:
                if w == who:
                    track[p0 : p0 + len(s)] += s
            tracks[who] = [track]
        mix = np.clip(tracks["A"][0] + tracks["B"][0], -32768, 32767).astype(np.int16)
        wav = tmp / "conv.wav"
        with wave.open(str(wav), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SAMPLE_RATE)
            w.writeframes(mix.tobytes())
        duration = total / SAMPLE_RATE
        n_frames = int(duration * FPS)
        env = {who: _envelope(tracks[who][0], n_frames) for who in tracks}
        cut_t = (turns[CONV_CUT_AFTER]["end"] + turns[CONV_CUT_AFTER + 1]["start"]) / 2
        cut_t = round(round(cut_t * FPS) / FPS, 4)
        scenes = [(0.0, cut_t, *CONV_SCENES[0]), (cut_t, round(duration, 4), *CONV_SCENES[1])]

        ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
        tmp_out = out.with_name(out.stem + ".part" + out.suffix)
        cmd = [
            ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{WIDTH}x{HEIGHT}", "-r", str(FPS), "-i", "-",
            "-i", str(wav),
            "-map", "0:v", "-map", "1:a", "-shortest",
            "-c:v", "libx264", "-preset", "medium", "-crf", "30", "-pix_fmt", "yuv420p", "-g", str(FPS * 4),
            "-c:a", "aac", "-b:a", "40k", "-ac", "1", "-ar", "22050",
            "-movflags", "+faststart", str(tmp_out),
        ]  # fmt: skip
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
        assert proc.stdin is not None
        for k in range(n_frames):
            t = k / FPS
            _s0, _s1, xa, xb, bg = next(sc for sc in scenes if t < sc[1] or sc is scenes[-1])
            frame = np.empty((HEIGHT, WIDTH, 3), np.uint8)
            frame[:] = [int(bg[2:4], 16), int(bg[4:6], 16), int(bg[6:8], 16)]
            people = (("A", photos[0], faces_in_photo[0], xa), ("B", photos[1], faces_in_photo[1], xb))
            for who, photo, face, x in people:
                tile = photo.copy()
                amp = env[who][k]
                if amp > 0.08:  # the mouth opens with this voice's loudness
                    fx, fy, fw, fh = face
                    centre = (fx + fw // 2, fy + int(0.8 * fh))
                    axes = (max(2, int(0.17 * fw)), max(1, int(amp * 0.1 * fh)))
                    cv2.ellipse(tile, centre, axes, 0, 0, 360, MOUTH_COLOUR, -1, lineType=cv2.LINE_AA)
                frame[CONV_Y : CONV_Y + CONV_PHOTO, x : x + CONV_PHOTO] = tile
            proc.stdin.write(frame.tobytes())
        proc.stdin.close()
        if proc.wait() != 0:
            raise SystemExit("ffmpeg failed to encode the conversation")
        tmp_out.replace(out)

    def face_box(x: int, face: list[int]) -> list[int]:
        return [x + face[0], CONV_Y + face[1], face[2], face[3]]

    script = {
        "video": out.name,
        "duration": round(duration, 4),
        "width": WIDTH,
        "height": HEIGHT,
        "fps": FPS,
        "voices": {who: f"espeak-ng -v {v} -s {wpm} -p {p}" for who, (v, wpm, p) in CONV_VOICES.items()},
        "speakers": {
            "A": "left photo (astronaut, head and shoulders)",
            "B": "right photo (mirrored, hue-shifted astronaut)",
        },
        "turns": turns,
        "scene_cuts": [cut_t],
        "scenes": [
            {"start": s0, "end": s1, "background": bg,
             "faces": {"A": face_box(xa, faces_in_photo[0]), "B": face_box(xb, faces_in_photo[1])}}
            for s0, s1, xa, xb, bg in scenes
        ],
        "face_note": "faces are [x, y, w, h] in source pixels (the Haar box found in each photo); static per scene",
    }
    script_out.write_text(json.dumps(script, indent=2) + "\n")
    return script


# The tightening fixture: sentences with planted long pauses and planted filler words (espeak-ng's "umm"
# and "hmm"; Whisper tiny.en hears both as "Um,"), each filler between short pauses.
TIGHTEN_PIECES: list[tuple[str, str, float]] = [  # (kind, text, silence after it in seconds)
    ("speech", "So here is the plan for the launch.", 0.4),
    ("filler", "umm", 0.4),
    ("speech", "We ship the new version on Friday morning.", 1.8),
    ("speech", "Then the whole team takes a long rest.", 0.4),
    ("filler", "hmm", 0.4),
    ("speech", "After that we look at the numbers.", 1.5),
    ("speech", "And then we decide what comes next.", 0.3),
]


def make_tighten(out: Path, script_out: Path) -> None:
    """A ~17 s 320x180 clip (a moving test pattern) whose audio is TIGHTEN_PIECES, with every piece's timing."""
    import imageio_ffmpeg

    exe = require_espeak()
    pieces: list[np.ndarray] = [np.zeros(int(0.3 * SAMPLE_RATE), dtype=np.int16)]
    pos = len(pieces[0])
    timing: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (kind, text, after) in enumerate(TIGHTEN_PIECES):
            samples = synth(exe, text, Path(tmp) / f"t{i}.wav", wpm=150)
            timing.append({"kind": kind, "text": text, "start": round(pos / SAMPLE_RATE, 4),
                           "end": round((pos + len(samples)) / SAMPLE_RATE, 4)})
            silence = np.zeros(int(after * SAMPLE_RATE), dtype=np.int16)
            pieces += [samples, silence]
            pos += len(samples) + len(silence)
        wav = Path(tmp) / "tighten.wav"
        with wave.open(str(wav), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SAMPLE_RATE)
            w.writeframes(np.concatenate(pieces).tobytes())
        duration = pos / SAMPLE_RATE
        subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
             "-f", "lavfi", "-i", f"testsrc2=s=320x180:r=25:d={duration:.3f}", "-i", str(wav),
             "-c:v", "libx264", "-preset", "veryfast", "-crf", "36", "-pix_fmt", "yuv420p",
             "-c:a", "aac", "-b:a", "64k", "-ar", "44100", "-shortest", "-movflags", "+faststart", str(out)],
            check=True,
        )  # fmt: skip
    script_out.write_text(json.dumps({"video": out.name, "duration": round(duration, 4), "pieces": timing}, indent=2))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--long-minutes", type=float, default=0, help="make an N-minute talk instead (benchmark)")
    ap.add_argument("--out", type=Path, default=None, help="output video path")
    ap.add_argument("--script", type=Path, default=None, help="also write the script JSON here")
    ap.add_argument("--spanish", action="store_true", help="make the short Spanish talk (charla_es.mp4) instead")
    ap.add_argument("--conversation", action="store_true", help="make the two-person conversation instead")
    ap.add_argument("--tighten", action="store_true", help="make tests/fixtures/tighten.mp4 (pauses and fillers)")
    args = ap.parse_args(argv)
    require_espeak()
    if args.spanish:
        out = args.out or FIXTURES / "charla_es.mp4"
        script_out = args.script or out.with_name("charla_es_script.json")
        make_talk(SPANISH, out, script_out, scene_every=60.0, max_cuts=0, voice="es")
    elif args.conversation:
        out = args.out or FIXTURES / "conversation.mp4"
        script_out = args.script or out.with_name("conversation_script.json")
        make_conversation(out, script_out)
    elif args.tighten:
        out = args.out or FIXTURES / "tighten.mp4"
        script_out = args.script or out.with_name("tighten_script.json")
        make_tighten(out, script_out)
    elif args.long_minutes:
        out = args.out or Path(tempfile.gettempdir()) / f"klipstar-talk-{args.long_minutes:g}min.mp4"
        script_out = args.script or out.with_suffix(".json")
        make_talk(long_paragraphs(args.long_minutes), out, script_out, scene_every=60.0, max_cuts=1000)
    else:
        out = args.out or FIXTURES / "talk.mp4"
        script_out = args.script or out.with_name("talk_script.json")
        make_talk(talk_paragraphs(), out, script_out, scene_every=60.0, max_cuts=1)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB) and {script_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
