#!/usr/bin/env python3
"""Make the labelled talks of the quality benchmark (bench/bench_quality.py): audio plus the truth.

    python scripts/make_quality_talks.py --out out/quality      # talk01.wav … talk05.wav + labels.json

Each talk is spoken by espeak-ng one sentence at a time (so every sentence's start and end is known
exactly) with its own voice, speaking rate, choice and order of topics, and choice of which topics open
with a hook. Sentences of one section are joined by SENTENCE_GAP of silence, sections by SECTION_GAP.
The generator writes the labels: sections (filler or topic, with their spans), the hook sentences, the
speech spans (for "is this cut in a pause") and prompts with their target topic.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_fixtures import SAMPLE_RATE, require_espeak, synth

SENTENCE_GAP = 0.35
SECTION_GAP = 0.9
LABELS_VERSION = 1

# name: (hook opener, flat opener, body sentences, prompt asking for this topic in other words)
TOPICS: dict[str, tuple[str, str, list[str], str]] = {
    "pricing": (
        "Here is the mistake almost every founder makes with pricing, and it cost me a year.",
        "The next item is pricing.",
        ["When I launched my first software product, I charged nine dollars a month because I was scared.",
         "Nobody took it seriously, and the customers who did sign up complained the most.",
         "Then I raised the price to ninety nine dollars, and sales actually went up.",
         "Customers told me the higher price made them trust the product more.",
         "So charge for the outcome you deliver, not for your own costs."],
        "how much should a startup charge its customers",
    ),
    "sleep": (
        "Nobody tells you this, but sleep does more for your memory than any study trick.",
        "Let us move on to sleep.",
        ["While you sleep, your brain replays everything you learned during the day.",
         "Deep sleep moves those memories from short term storage into long term storage.",
         "In one experiment, students who slept after learning remembered forty percent more.",
         "So before your next exam, skip the all nighter and go to bed.",
         "Resting is part of studying, not a break from it."],
        "why rest helps students remember what they learned",
    ),
    "printing": (
        "The printing press changed the world faster than the internet did, and here is the proof.",
        "Some history about the printing press now.",
        ["Around fourteen fifty, Johannes Gutenberg combined movable metal type with an old wine press.",
         "Within fifty years, printers across Europe had produced millions of books.",
         "Ideas that once took a lifetime to spread now travelled in months.",
         "Scientists could share discoveries, and ordinary people learned to read.",
         "One craftsman in a small workshop started a revolution of knowledge."],
        "the history of Gutenberg and books in Europe",
    ),
    "cooking": (
        "This is the most embarrassing story I have ever told on this show.",
        "A few words about cooking at home.",
        ["I wanted to impress my new neighbours, so I tried to roast a whole turkey for the first time.",
         "I forgot to take the bag of giblets out, and the oven started smoking.",
         "The fire alarm went off just as the guests rang the doorbell.",
         "We ended up eating cereal on the balcony, laughing until we cried.",
         "Honestly, it was the best dinner party we ever had."],
        "the funny story about the dinner party that went wrong",
    ),
    "habits": (
        "Here is the secret to a habit that actually sticks, and it takes two minutes a day.",
        "Now, about habits.",
        ["Make the new habit so small that you cannot fail.",
         "Do one push up, read one page, or write one sentence.",
         "Starting is the hardest part, and once you start you usually keep going.",
         "Tiny wins slowly build the identity of someone who shows up every day.",
         "After a month, the small habit grows on its own."],
        "advice on building routines that last",
    ),
    "ocean": (
        "We have better maps of Mars than of our own ocean floor, and that should shock you.",
        "The next subject is the ocean.",
        ["Most of the deep sea has never been seen by a human being.",
         "Down there, fish make their own light in complete darkness.",
         "Whole communities of creatures live near volcanic vents without any sunlight at all.",
         "Every new expedition to the deep ocean finds species nobody has described.",
         "The deep ocean is the largest unexplored place on our planet."],
        "what lives in the deep sea",
    ),
    "garden": (
        "My garden has taught me more about patience than any book I have read.",
        "Let me say something about gardening.",
        ["Tomatoes need full sun, rich soil and steady water.",
         "If you water them too much at once, the fruit splits open.",
         "Every spring I plant the seedlings a little deeper so the roots grow strong.",
         "By late summer the vines are taller than I am.",
         "Good tomatoes simply cannot be rushed."],
        "tips for growing tomatoes in the garden",
    ),
    "money": (
        "The best financial decision I ever made took ten minutes and I never touched it again.",
        "The topic now is saving money.",
        ["I set up an automatic transfer into an index fund on the day my salary arrives.",
         "Because the money leaves before I see it, I never miss it.",
         "Over ten years, those small monthly amounts grew far more than I expected.",
         "Compound interest rewards people who start early and stay boring.",
         "Automate your savings and stop checking the market every day."],
        "how to save and invest money automatically",
    ),
    "running": (
        "I could not run for five minutes, and last year I finished a marathon.",
        "Next on the list is running.",
        ["I started by alternating one minute of jogging with two minutes of walking.",
         "Every week I added a little more running and a little less walking.",
         "Most beginners quit because they run too fast, so I kept a slow, easy pace.",
         "Six months later I ran ten kilometres without stopping.",
         "Slow and steady training builds the endurance for long races."],
        "how a beginner trained for a marathon",
    ),
    "coffee": (
        "Your morning coffee is probably working against you, and the fix is simple.",
        "Here are some notes about coffee.",
        ["Right after you wake up, your body already produces plenty of the alertness hormone cortisol.",
         "Caffeine at that moment adds little and wears off by late morning.",
         "Waiting about an hour before the first cup makes the caffeine work longer.",
         "Drinking coffee after two in the afternoon can also ruin your sleep that night.",
         "So delay the first cup and stop early in the day."],
        "the best time of day to drink caffeine",
    ),
}

INTROS = [
    ["Hi everyone, and welcome back to the channel.", "Before we start, please like and subscribe."],
    ["Hello and welcome to another episode of the show.",
     "This episode is sponsored by Cloud Nine Mattresses, use the code talk ten for ten percent off."],
    ["Hey friends, welcome back, it is great to have you here today.",
     "Quick housekeeping, all the links are in the description below."],
]
TRANSITIONS = ["Um, where was I. Okay.", "Right, so, anyway.", "Okay, moving on."]
OUTROS = ["Thanks for watching, and see you next week. Bye for now.",
          "That is all for today, thanks for listening and see you soon."]

# (voice, words per minute, pitch, seed): one talk each.
TALKS: list[tuple[str, int, int, int]] = [
    ("en-us", 160, 50, 1),
    ("en-gb", 145, 40, 2),
    ("en-gb-scotland", 175, 55, 3),
    ("en-us+f3", 150, 60, 4),
    ("en-gb-x-rp", 170, 45, 5),
]
TOPICS_PER_TALK = 6
HOOKS_PER_TALK = 3
PROMPTS_PER_TALK = 3


def talk_plan(seed: int) -> dict:
    """Which sections (in order), which topics open with a hook, which are asked for: all from the seed."""
    rng = random.Random(seed)
    names = rng.sample(sorted(TOPICS), TOPICS_PER_TALK)
    hooks = set(rng.sample(names, HOOKS_PER_TALK))
    sections: list[dict] = [{"kind": "filler", "name": "intro", "sentences": INTROS[seed % len(INTROS)]}]
    for i, name in enumerate(names):
        if i and rng.random() < 0.5:
            sections.append({"kind": "filler", "name": "transition", "sentences": [rng.choice(TRANSITIONS)]})
        hook, flat, body, _ = TOPICS[name]
        sections.append({"kind": "topic", "name": name, "hook": name in hooks,
                         "sentences": [hook if name in hooks else flat, *body]})
    sections.append({"kind": "filler", "name": "outro", "sentences": [OUTROS[seed % len(OUTROS)]]})
    prompts = [{"prompt": TOPICS[n][3], "topic": n} for n in rng.sample(names, PROMPTS_PER_TALK)]
    return {"sections": sections, "prompts": prompts}


def make_talk(exe: str, voice: str, wpm: int, pitch: int, seed: int, wav_out: Path, tmp: Path) -> dict:
    """Speak one talk to wav_out; return its labels (times in seconds from the start of the file)."""
    plan = talk_plan(seed)
    lead = np.zeros(int(0.5 * SAMPLE_RATE), dtype=np.int16)
    pieces = [lead]
    pos = len(lead)
    speech: list[list[float]] = []
    hooks: list[dict] = []
    sections: list[dict] = []
    for si, sec in enumerate(plan["sections"]):
        if si:
            gap = np.zeros(int(SECTION_GAP * SAMPLE_RATE), dtype=np.int16)
            pieces.append(gap)
            pos += len(gap)
        start = pos / SAMPLE_RATE
        for k, text in enumerate(sec["sentences"]):
            if k:
                gap = np.zeros(int(SENTENCE_GAP * SAMPLE_RATE), dtype=np.int16)
                pieces.append(gap)
                pos += len(gap)
            samples = synth(exe, text, tmp / f"s{si:02d}_{k:02d}.wav", voice=voice, wpm=wpm, pitch=pitch)
            s0 = pos / SAMPLE_RATE
            pieces.append(samples)
            pos += len(samples)
            speech.append([round(s0, 4), round(pos / SAMPLE_RATE, 4)])
            if sec.get("hook") and k == 0:
                s_start, s_end = speech[-1]
                hooks.append({"topic": sec["name"], "text": text, "start": s_start, "end": s_end})
        sections.append({"kind": sec["kind"], "name": sec["name"], "hook": bool(sec.get("hook")),
                         "start": round(start, 4), "end": round(pos / SAMPLE_RATE, 4),
                         "text": " ".join(sec["sentences"])})
    pieces.append(lead)
    audio = np.concatenate(pieces)
    with wave.open(str(wav_out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(audio.tobytes())
    return {
        "audio": wav_out.name, "voice": voice, "wpm": wpm, "pitch": pitch, "seed": seed,
        "duration": round(len(audio) / SAMPLE_RATE, 4), "sections": sections, "hooks": hooks,
        "speech": speech, "prompts": plan["prompts"],
    }


def make_all(out_dir: Path) -> dict:
    """Every talk of TALKS into out_dir, and out_dir/labels.json; returns the labels."""
    exe = require_espeak()
    out_dir.mkdir(parents=True, exist_ok=True)
    talks = []
    with tempfile.TemporaryDirectory(prefix="klipstar-quality-") as tdir:
        for i, (voice, wpm, pitch, seed) in enumerate(TALKS, start=1):
            talks.append(make_talk(exe, voice, wpm, pitch, seed, out_dir / f"talk{i:02d}.wav", Path(tdir)))
    labels = {"version": LABELS_VERSION, "sentence_gap": SENTENCE_GAP, "section_gap": SECTION_GAP, "talks": talks}
    (out_dir / "labels.json").write_text(json.dumps(labels, indent=1) + "\n")
    return labels


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("out/quality"), help="output folder")
    args = ap.parse_args(argv)
    labels = make_all(args.out)
    segments = sum(len(t["sections"]) + len(t["hooks"]) + len(t["prompts"]) for t in labels["talks"])
    minutes = sum(t["duration"] for t in labels["talks"]) / 60
    print(f"wrote {len(labels['talks'])} talks ({minutes:.1f} min, {segments} labelled segments) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
