"""A hand-written NumPy model as real projects save one: g2p-en's trained arrays under their own names (``enc_w_ih``,
…, ``enc_emb``), its output layer called ``out_w``/``out_b``. Not g2p-en's exact layout (that one opens on the
Encoder–decoder page), so Your model must map its names."""

from __future__ import annotations

import io

import numpy as np

from gru_viz.io import seq2seq

RENAMED = {"fc_w": "out_w", "fc_b": "out_b"}


def hand_written_npz() -> bytes:
    """g2p-en's checkpoint with its output layer renamed, as an .npz file's bytes."""
    with np.load(seq2seq.WEIGHTS, allow_pickle=False) as z:
        arrays = {RENAMED.get(k, k): z[k] for k in z.files}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def two_modules(state_dict: dict) -> dict:
    """An encoder–decoder's state_dict as a project of its own saves it: the tutorial's modules, the decoder's output
    layer called ``fc`` (the tutorial's exact layout, ``decoder.out``, opens on the Encoder–decoder page instead)."""
    return {k.replace("decoder.out.", "decoder.fc."): v for k, v in state_dict.items()}
