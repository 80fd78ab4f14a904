"""An independent all-MiniLM-L6-v2 reference: the same weights run by CTranslate2's C++ BERT encoder.

ctranslate2 is already a runtime dependency (faster-whisper). Its transformers converter needs torch,
so the model spec is filled directly from the safetensors arrays, mirroring CTranslate2's BertLoader.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def convert(model_dir: Path, out_dir: Path) -> Path:
    """Write a CTranslate2 model directory for the BERT weights in `model_dir`."""
    from ctranslate2.specs import common_spec, transformer_spec
    from safetensors.numpy import load_file

    cfg = json.loads((model_dir / "config.json").read_text())
    w = load_file(str(model_dir / "model.safetensors"))
    enc = transformer_spec.TransformerEncoderSpec(
        cfg["num_hidden_layers"], cfg["num_attention_heads"], pre_norm=False,
        activation=common_spec.Activation.GELU, layernorm_embedding=True, num_source_embeddings=2,
        embeddings_merge=common_spec.EmbeddingsMerge.ADD,
    )
    spec = transformer_spec.TransformerEncoderModelSpec(enc, pooling_layer=False)
    spec.encoder.scale_embeddings = False
    spec.encoder.embeddings[0].weight = w["embeddings.word_embeddings.weight"]
    spec.encoder.embeddings[1].weight = w["embeddings.token_type_embeddings.weight"]
    spec.encoder.position_encodings.encodings = w["embeddings.position_embeddings.weight"]
    spec.encoder.layernorm_embedding.gamma = w["embeddings.LayerNorm.weight"]
    spec.encoder.layernorm_embedding.beta = w["embeddings.LayerNorm.bias"]
    for i, layer in enumerate(spec.encoder.layer):
        p = f"encoder.layer.{i}."
        att = layer.self_attention
        att.linear[0].weight = np.concatenate([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")])
        att.linear[0].bias = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
        att.linear[1].weight = w[p + "attention.output.dense.weight"]
        att.linear[1].bias = w[p + "attention.output.dense.bias"]
        att.layer_norm.gamma = w[p + "attention.output.LayerNorm.weight"]
        att.layer_norm.beta = w[p + "attention.output.LayerNorm.bias"]
        layer.ffn.linear_0.weight = w[p + "intermediate.dense.weight"]
        layer.ffn.linear_0.bias = w[p + "intermediate.dense.bias"]
        layer.ffn.linear_1.weight = w[p + "output.dense.weight"]
        layer.ffn.linear_1.bias = w[p + "output.dense.bias"]
        layer.ffn.layer_norm.gamma = w[p + "output.LayerNorm.weight"]
        layer.ffn.layer_norm.beta = w[p + "output.LayerNorm.bias"]
    vocab = (model_dir / "vocab.txt").read_text(encoding="utf-8").splitlines()
    spec.register_vocabulary(vocab)
    spec.config.unk_token = "[UNK]"
    spec.config.layer_norm_epsilon = cfg["layer_norm_eps"]
    spec.validate()
    out_dir.mkdir(parents=True, exist_ok=True)
    spec.save(str(out_dir))
    return out_dir


def reference_embeddings(ct2_dir: Path, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean-pooled, L2-normalised sentence vectors from CTranslate2's encoder output."""
    import ctranslate2

    encoder = ctranslate2.Encoder(str(ct2_dir), device="cpu", compute_type="float32", intra_threads=1)
    lengths = mask.sum(axis=1)
    rows = [list(map(int, r[: int(n)])) for r, n in zip(ids, lengths, strict=True)]
    out = encoder.forward_batch(rows)
    hidden = np.array(out.last_hidden_state)  # (batch, longest, 384)
    m = np.zeros(hidden.shape[:2], dtype=np.float32)
    for i, n in enumerate(lengths):
        m[i, : int(n)] = 1.0
    pooled = (hidden * m[:, :, None]).sum(axis=1) / m.sum(axis=1, keepdims=True)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
