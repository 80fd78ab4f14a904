"""Build transcripts, sentences and candidate windows from plain text, with synthetic word timings."""

from __future__ import annotations

import re
from collections.abc import Sequence

from chalicelib.engine.types import Candidate, Sentence, Transcript, Word

SECONDS_PER_WORD = 0.35


def make_transcript(
    paragraphs: Sequence[str], *, per_word: float = SECONDS_PER_WORD, gap: float = 0.6, word_fill: float = 0.85
) -> Transcript:
    """Words at `per_word` seconds each (spoken for `word_fill` of the slot), `gap` s of silence between paragraphs."""
    words: list[Word] = []
    t = 0.5
    for para in paragraphs:
        for tok in para.split():
            words.append(Word(text=tok, start=round(t, 3), end=round(t + per_word * word_fill, 3)))
            t += per_word
        t += gap
    return Transcript(language="en", duration=round(t + 0.5, 3), words=words)


def split_sentences(transcript: Transcript) -> list[Sentence]:
    """Sentences end at words ending in . ? or ! (what segment.split_sentences does for clean text)."""
    out: list[Sentence] = []
    first = 0
    for i, w in enumerate(transcript.words):
        if re.search(r"[.?!][\"')]*$", w.text) or i == len(transcript.words) - 1:
            ws = transcript.words[first: i + 1]
            out.append(Sentence(" ".join(x.text for x in ws), ws[0].start, ws[-1].end, first, i))
            first = i + 1
    return out


def windows(sentences: Sequence[Sentence], min_duration: float, max_duration: float) -> list[Candidate]:
    """Every run of consecutive sentences lasting min..max seconds."""
    out: list[Candidate] = []
    for i in range(len(sentences)):
        for j in range(i, len(sentences)):
            dur = sentences[j].end - sentences[i].start
            if dur > max_duration:
                break
            if dur >= min_duration:
                text = " ".join(s.text for s in sentences[i: j + 1])
                out.append(Candidate(sentences[i].start, sentences[j].end, i, j, text))
    return out


def paragraph_spans(transcript: Transcript, paragraphs: Sequence[str]) -> list[tuple[float, float]]:
    """[start, end] of each paragraph of a transcript built by make_transcript."""
    spans: list[tuple[float, float]] = []
    i = 0
    for para in paragraphs:
        n = len(para.split())
        ws = transcript.words[i: i + n]
        spans.append((ws[0].start, ws[-1].end))
        i += n
    return spans
