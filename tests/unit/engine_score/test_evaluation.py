"""The quality benchmark's metric code (chalicelib/engine/evaluation.py) on hand-computed cases."""

from __future__ import annotations

import pytest

from chalicelib.engine import evaluation as ev


def test_iou_and_overlap() -> None:
    assert ev.overlap((0, 10), (5, 20)) == 5
    assert ev.iou((0, 10), (5, 15)) == pytest.approx(5 / 15)
    assert ev.iou((0, 10), (0, 10)) == 1.0
    assert ev.iou((0, 10), (10, 20)) == 0.0
    assert ev.iou((3, 3), (3, 3)) == 0.0  # empty spans


def test_prompt_recall_mean_iou_and_boundary_error() -> None:
    targets = [(10.0, 40.0), (50.0, 80.0), (100.0, 120.0)]
    answers = [(10.0, 40.0), (60.0, 100.0), None]
    # IoUs: 1.0, 20/50 = 0.4, 0 (no answer)
    assert ev.recall_at_iou(answers, targets, 0.5) == pytest.approx(1 / 3)
    assert ev.recall_at_iou(answers, targets, 0.4) == pytest.approx(2 / 3)
    assert ev.mean_iou(answers, targets) == pytest.approx((1.0 + 0.4) / 3)
    # Unanswered prompts have no boundary error: (0 + (10/2 + 20/2)) / 2
    assert ev.boundary_error(answers, targets) == pytest.approx(7.5)
    assert ev.boundary_error([None], [(0.0, 1.0)]) is None
    assert ev.recall_at_iou([], []) == 0.0


def test_hook_precision_and_filler_rate() -> None:
    hooks = [(20.0, 24.0), (60.0, 63.0)]
    clips = [(19.8, 50.0), (58.0, 62.8), (100.0, 130.0)]  # whole hook; hook 0.2 s past the end; none
    assert ev.hook_precision(clips, hooks) == pytest.approx(2 / 3)
    assert ev.hook_precision(clips[2:], hooks) == 0.0
    assert ev.hook_precision([], hooks) == 0.0
    filler = [(0.0, 5.0), (70.0, 72.0), (73.0, 74.5)]
    picks = [(2.0, 30.0), (65.0, 90.0), (100.0, 120.0)]  # 3 s of filler; 2 + 1.5 s; none
    assert ev.filler_rate(picks, filler) == pytest.approx(2 / 3)
    assert ev.filler_rate(picks, filler, min_seconds=3.2) == pytest.approx(1 / 3)


def test_cuts_in_pauses() -> None:
    speech = [(1.0, 5.0), (5.5, 9.0)]
    assert ev.in_pause(5.2, speech) and ev.in_pause(0.5, speech) and ev.in_pause(9.01, speech)
    assert not ev.in_pause(3.0, speech) and not ev.in_pause(5.6, speech)
    assert ev.share_in_pauses([(0.8, 5.3), (2.0, 9.5)], speech) == pytest.approx(3 / 4)
    assert ev.share_in_pauses([], speech) == 0.0


def test_boundary_f1_matches_each_true_boundary_once() -> None:
    truth = [30.0, 60.0, 90.0]
    p, r, f = ev.boundary_f1([29.0, 31.0, 62.5, 200.0], truth, 3.0)
    # 29 matches 30; 31 finds 30 taken and 60 too far; 62.5 matches 60; 200 matches nothing.
    assert (p, r) == (pytest.approx(2 / 4), pytest.approx(2 / 3))
    assert f == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert ev.boundary_f1([], truth) == (0.0, 0.0, 0.0)
    assert ev.boundary_f1(truth, truth) == (1.0, 1.0, 1.0)
