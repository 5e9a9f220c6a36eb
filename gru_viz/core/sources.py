"""Every attribution the app makes to a paper or a library, each with where it was checked.

An attribution is a claim like any other ("PyTorch writes z keeps"): each is an :class:`Attribution` naming what
it says (for a GRU convention, where r acts and what z weights) and its source — for a library, the code path
that computes it; for a paper or a book, the section. ``library`` names an installable library whose own code
tests/test_attributions.py runs against ours (torch, Keras on the torch backend, ONNX through onnxruntime); the
other records are sourced by reading. The app's words name a paper or a library only through these records
(the same test scans the package's strings for names said anywhere else).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Attribution:
    """One thing the app says a paper or library does, and where that was checked."""

    key: str
    who: str  # the name as the app prints it
    source: str  # the library's code path, or the paper's section
    library: str | None = None  # "torch", "keras" or "onnx": checked numerically against that library's code
    reset_after: bool | None = None  # GRU conventions: r multiplies (W_hn h + b_hn) rather than h
    z_keeps: bool | None = None  # h' = (1 − z) ⊙ n + z ⊙ h rather than (1 − z) ⊙ h + z ⊙ n
    short: str = ""  # the name in a variant's label ("Cho v3"), when shorter than ``who``


ATTRIBUTIONS: dict[str, Attribution] = {
    a.key: a
    for a in (
        Attribution("torch", "PyTorch", "torch.nn.GRU (torch/nn/modules/rnn.py; computed by torch._VF.gru)",
                    "torch", True, True),
        Attribution("cudnn", "cuDNN", "NVIDIA cuDNN API reference, cudnnRNNMode_t CUDNN_GRU "
                    "(h' = (1 − i) ∘ h̃ + i ∘ h, h̃ = tanh(W x + r ∘ (R h + Rb) + Wb))", None, True, True),
        Attribution("keras-after", "Keras (reset_after=True, its default)",
                    "keras.layers.GRU, GRUCell.call (keras/src/layers/rnn/gru.py); default from its signature",
                    "keras", True, True),
        Attribution("keras-before", "Keras' reset_after=False", "keras.layers.GRU(reset_after=False), GRUCell.call",
                    "keras", False, True),
        Attribution("onnx-after", "ONNX's linear_before_reset=1",
                    "ONNX operator GRU (onnx/defs/rnn/defs.cc), run by onnxruntime", "onnx", True, True),
        Attribution("onnx-before", "ONNX's default (linear_before_reset=0)",
                    "ONNX operator GRU (onnx/defs/rnn/defs.cc), run by onnxruntime", "onnx", False, True),
        Attribution("flax", "Flax", "flax/linen/recurrent.py, GRUCell.__call__ (n = tanh(W_in x + r ⊙ (W_hn h + "
                    "b_hn)), new_h = (1 − z) ⊙ n + z ⊙ h)", None, True, True),
        Attribution("tf-block", "TensorFlow's GRUBlockCell",
                    "tensorflow/core/kernels/rnn/gru_ops.h, GRUBlockCellFprop: c = tanh(W_c [x, r ∘ h_prev] + b_c), "
                    "h = (1 − u) ∘ c + u ∘ h_prev", None, False, True),
        Attribution("dive", "d2l.ai from scratch",
                    "Dive into Deep Learning, §10.2 Gated Recurrent Units, gru() from scratch: "
                    "H_tilde = tanh(X W_xh + (R ⊙ H) W_hh + b_h), H = Z ⊙ H + (1 − Z) ⊙ H_tilde", None, False, True,
                    "d2l"),
        Attribution("cho", "Cho et al. 2014", "Cho et al. 2014, arXiv 1406.1078v3, §2.3, eqs. (5)–(8)",
                    None, False, True, "Cho v3"),
        Attribution("cho-mt", "Cho et al. 2014",
                    "Cho et al. 2014, “Learning Phrase Representations using RNN Encoder–Decoder for Statistical "
                    "Machine Translation”, EMNLP, arXiv 1406.1078: §2.2 the RNN encoder–decoder (the encoder reads "
                    "the source into a fixed-length vector c, the decoder generates the target from it), §2.3 the "
                    "hidden unit with a reset gate and an update gate"),
        Attribution("chung", "Chung et al. 2014", "Chung et al. 2014, arXiv 1412.3555, §3.2, eqs. (5)–(8)",
                    None, False, False, "Chung"),
        Attribution("wikipedia", "Wikipedia's “fully gated unit”",
                    "Wikipedia, Gated recurrent unit, § Fully gated unit", None, False, False,
                    "Wikipedia"),
        Attribution("feng", "Feng et al. 2024",
                    "Feng et al. 2024, “Were RNNs All We Needed?”, arXiv 2410.01201, §3 (minGRU, minLSTM)"),
        Attribution("jozefowicz", "Jozefowicz et al. 2015",
                    "Jozefowicz, Zaremba & Sutskever 2015, “An Empirical Exploration of Recurrent Network "
                    "Architectures”, ICML: a forget-gate bias of 1 for the LSTM"),
        Attribution("karpathy", "Karpathy, Johnson & Fei-Fei 2015",
                    "Karpathy, Johnson & Fei-Fei 2015, “Visualizing and Understanding Recurrent Networks”, arXiv "
                    "1506.02078: §4.1 character-level LSTM, GRU and vanilla RNN language models on War and Peace and "
                    "the Linux kernel's source (LSTM and GRU close in test cross-entropy, both well ahead of the RNN); "
                    "§4.2 interpretable cells (line length, inside quotes, bracket depth); Figure 3, gate saturation "
                    "(a gate is left-saturated below 0.1, right-saturated above 0.9)"),
        Attribution("lstmvis", "LSTMVis (Strobelt et al. 2018)",
                    "Strobelt, Gehrmann, Pfister & Rush 2018, “LSTMVis: A Tool for Visual Analysis of Hidden State "
                    "Dynamics in Recurrent Neural Networks”, IEEE TVCG 24(1), arXiv 1606.07461; its code "
                    "(HendrikStrobelt/LSTMVis): the select view keeps the cells on (≥ the threshold, 0.3 by default) "
                    "across the brushed span and off just around it (client/js/apps/LSTMController.js, "
                    "cellSelection); the match view ranks the runs where those cells are on by most selected cells "
                    "on, fewest others, longest (lstmdata/data_handler.py, query_similar_activations; 50 results)"),
        Attribution("torch-init", "torch's default initialisation",
                    "torch.nn.RNNBase.reset_parameters: every weight and bias uniform in ±1/√hidden_size", "torch"),
    )
}


def who(*keys: str) -> str:
    """The names of the attributions ``keys``, joined for a sentence."""
    return ", ".join(ATTRIBUTIONS[k].who for k in keys)


def short(*keys: str) -> str:
    """The short names of the attributions ``keys`` for a label, joined by " / "."""
    return " / ".join(ATTRIBUTIONS[k].short or ATTRIBUTIONS[k].who for k in keys)


def writers(*, reset_after: bool | None = None, z_keeps: bool | None = None) -> tuple[str, ...]:
    """The keys of every attribution that makes the given GRU choices (None: either), in the table's order."""
    return tuple(a.key for a in ATTRIBUTIONS.values()
                 if (a.reset_after is not None or a.z_keeps is not None)
                 and (reset_after is None or a.reset_after == reset_after)
                 and (z_keeps is None or a.z_keeps == z_keeps))
