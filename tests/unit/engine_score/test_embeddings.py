"""The numpy all-MiniLM-L6-v2 against published values and an independent C++ implementation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from chalicelib.engine import embeddings

from .ct2_reference import reference_embeddings

TEXTS = [
    "The weather is lovely today.",
    "It's so sunny outside!",
    "He drove to the stadium.",
    "How old are you?",
    "What is your age?",
    "Pricing is the hardest decision a founder makes, because it signals who the product is for.",
    "ok",
    # Longer than 256 word pieces: exercises truncation.
    " ".join(["Our churn dropped after we rewrote onboarding, and the lesson was humbling."] * 30),
]


def test_shape_dtype_and_unit_norm() -> None:
    vecs = embeddings.embed(TEXTS)
    assert vecs.shape == (len(TEXTS), 384)
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert embeddings.embed([]).shape == (0, 384)


def test_matches_sbert_documentation_values() -> None:
    """sbert.net's quickstart prints these similarities for all-MiniLM-L6-v2 (to 4 decimals)."""
    v = embeddings.embed(TEXTS[:3])
    sims = v @ v.T
    assert abs(sims[0, 1] - 0.6660) < 5e-4
    assert abs(sims[0, 2] - 0.1046) < 5e-4
    assert abs(sims[1, 2] - 0.1411) < 5e-4


def test_matches_ctranslate2_encoder(ct2_minilm: Path) -> None:
    model = embeddings.get_model()
    ids, mask = model.tokenize(TEXTS)
    assert ids.shape[1] == embeddings.MAX_TOKENS  # the long text was truncated to 256 word pieces
    assert ids[-1, -1] == 102  # ... and still ends with [SEP]
    ref = reference_embeddings(ct2_minilm, ids, mask)
    ours = embeddings.embed(TEXTS)
    assert np.abs(ref - ours).max() < 1e-4


def test_paraphrase_is_close_and_unrelated_is_far() -> None:
    v = embeddings.embed(["How old are you?", "What is your age?", "The stock market fell sharply today."])
    para, unrelated = float(v[0] @ v[1]), float(v[0] @ v[2])
    assert para > 0.7
    assert para - unrelated > 0.5


def test_batching_and_padding_do_not_change_vectors() -> None:
    model = embeddings.get_model()
    batched = model.encode(TEXTS, batch_size=8)
    single = np.stack([model.encode([t])[0] for t in TEXTS])
    np.testing.assert_allclose(batched, single, atol=2e-5)
    # The memoised public function returns the same vectors, in input order, with duplicates.
    again = embeddings.embed([TEXTS[2], TEXTS[0], TEXTS[2]])
    np.testing.assert_allclose(again, single[[2, 0, 2]], atol=2e-5)


def test_runs_without_torch_or_sentence_transformers() -> None:
    code = (
        "import sys; from chalicelib.engine import embeddings as e; e.embed(['hello there']);"
        "bad = [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[3])
