"""Topic segmentation (TextTiling on MiniLM embeddings) on the known synthetic talk, and its storage."""

from __future__ import annotations

import itertools

import numpy as np

from chalicelib.engine import topics
from chalicelib.engine.types import Chapter, Transcript

from .conftest import Talk


def test_depth_scores_measure_dips_between_peaks() -> None:
    sims = np.array([0.9, 0.8, 0.3, 0.7, 0.6, 0.65])
    depth = topics.depth_scores(sims)
    assert abs(depth[2] - ((0.9 - 0.3) + (0.7 - 0.3))) < 1e-9  # the valley between the two peaks
    assert depth[0] == 0.0 and depth[3] == 0.0  # peaks have no depth
    assert abs(depth[4] - ((0.7 - 0.6) + (0.65 - 0.6))) < 1e-9  # a shallow dip


def test_chapters_cover_the_talk_and_find_its_topic_changes(talk: Talk) -> None:
    chapters = topics.segment_topics(talk.sentences)
    assert chapters[0].first_sentence == 0 and chapters[-1].last_sentence == len(talk.sentences) - 1
    for a, b in itertools.pairwise(chapters):
        assert b.first_sentence == a.last_sentence + 1 and a.end <= b.start
        assert a.end - a.start >= topics.MIN_CHAPTER_SECONDS - 1e-6
    assert all(c.title for c in chapters)
    # Every chapter boundary is a real topic change of the script (within 3 s of a paragraph edge whose
    # neighbours differ in topic), and most content topics start a chapter.
    changes = [talk.spans[i][0] for i in range(1, len(talk.spans)) if talk.topics[i] != talk.topics[i - 1]]
    starts = [c.start for c in chapters[1:]]
    assert all(min(abs(s - t) for t in changes) <= 3.0 for s in starts), (starts, changes)
    found = sum(1 for t in ("pricing", "sleep", "cooking", "election") if
                any(abs(s - talk.span_of(t)[0][0]) <= 3.0 for s in starts))
    assert found >= 3
    titles = " ".join(c.title.lower() for c in chapters)
    assert "sleep" in titles and "election" in titles


def test_chapters_round_trip_with_the_transcript(talk: Talk) -> None:
    chapters = topics.segment_topics(talk.sentences)
    stored = Transcript(talk.transcript.language, talk.transcript.duration, talk.transcript.words, chapters)
    back = Transcript.from_dict(stored.to_dict())
    assert back.chapters == chapters
    assert "chapters" not in Transcript("en", 1.0, []).to_dict()  # old transcripts keep their shape
    assert chapters[1].public() == {"start": round(chapters[1].start, 3), "end": round(chapters[1].end, 3),
                                    "title": chapters[1].title}
    assert topics.chapter_of(chapters, chapters[1].first_sentence) == 1
    assert Chapter.from_dict(chapters[0].to_dict()) == chapters[0]


def test_no_sentences_no_chapters() -> None:
    assert topics.segment_topics([]) == []
