"""g2p-en's trained GRU encoder–decoder (English spelling → ARPAbet pronunciation), run on gru-viz's core.

The weights are g2p-en 2.1.0's ``checkpoint20.npz``, shipped unmodified in ``data/g2p_en/`` with its Apache-2.0
licence and a NOTICE (g2p-en itself is not needed). Its own code (``g2p_en/g2p.py``: ``grucell``, ``gru``,
``predict``) runs torch's GRU: gates in the row order r, z, n, ``rz = σ(W_ih[:2H] x + b_ih[:2H] + W_hh[:2H] h +
b_hh[:2H])``, ``n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))``, ``h' = (1 − z) ⊙ n + z ⊙ h``: exactly torch's
state_dict layout and gru-viz's default GRU variant, so the arrays are copied, not rearranged (the tests prove it
against g2p-en's own code). g2p-en computes in float32; gru-viz in float64 (the tests compare both ways).

:func:`transcribe` follows ``predict``: the encoder reads the word's letters and the end mark ``</s>`` from a zero
state; the decoder starts from the encoder's last state with the start mark ``<s>`` and feeds back its own most
likely phoneme until it emits ``</s>`` or has emitted 20. A letter outside a–z becomes ``<unk>``, as the model's
``encode`` makes it; the word is lower-cased first, as g2p-en's ``G2p.__call__`` does before ``predict``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from ..core.model import Model
from ..core.spec import Spec
from ..core.trace import LayerTrace, Trace
from ..core.units import MODERATE, STRONG, WEAK, correlations, strength  # noqa: F401  (the scale, shared with Real text)

__all__ = [
    "CAP",
    "G2P",
    "GRAPHEMES",
    "IPA",
    "MAX_WORD",
    "PHONEMES",
    "Finding",
    "Seq2Seq",
    "Seq2SeqError",
    "Transcription",
    "encoder_findings",
    "g2p",
    "ipa",
    "read_seq2seq_bytes",
    "recognise",
    "run_seq2seq",
    "transcribe",
    "word_list",
]

DATA_DIR = Path(__file__).resolve().parent / "data" / "g2p_en"
WEIGHTS = DATA_DIR / "checkpoint20.npz"
WORDS = DATA_DIR / "words.txt"

# The vocabularies, copied from g2p-en 2.1.0's g2p_en/g2p.py (Apache-2.0; see data/g2p_en/NOTICE).
GRAPHEMES = ("<pad>", "<unk>", "</s>", *"abcdefghijklmnopqrstuvwxyz")
PHONEMES = ("<pad>", "<unk>", "<s>", "</s>",
            "AA0", "AA1", "AA2", "AE0", "AE1", "AE2", "AH0", "AH1", "AH2", "AO0", "AO1", "AO2", "AW0", "AW1", "AW2",
            "AY0", "AY1", "AY2", "B", "CH", "D", "DH", "EH0", "EH1", "EH2", "ER0", "ER1", "ER2", "EY0", "EY1", "EY2",
            "F", "G", "HH", "IH0", "IH1", "IH2", "IY0", "IY1", "IY2", "JH", "K", "L", "M", "N", "NG", "OW0", "OW1",
            "OW2", "OY0", "OY1", "OY2", "P", "R", "S", "SH", "T", "TH", "UH0", "UH1", "UH2", "UW", "UW0", "UW1", "UW2",
            "V", "W", "Y", "Z", "ZH")
UNK, END, START = GRAPHEMES.index("<unk>"), GRAPHEMES.index("</s>"), PHONEMES.index("<s>")
P_END = PHONEMES.index("</s>")
CAP = 20  # predict() emits at most 20 phonemes
MAX_WORD = 100  # the longest word the page takes (the encoder runs one step a letter)
HIDDEN = 256

# ARPAbet → IPA (General American), after Wikipedia's "ARPABET" article (its table of CMUdict's phones). Stress
# digits are dropped, but an unstressed AH and ER are the schwas ə and ɚ, as that table writes them.
IPA = {"AA": "ɑ", "AE": "æ", "AH": "ʌ", "AH0": "ə", "AO": "ɔ", "AW": "aʊ", "AY": "aɪ", "B": "b", "CH": "tʃ", "D": "d",
       "DH": "ð", "EH": "ɛ", "ER": "ɝ", "ER0": "ɚ", "EY": "eɪ", "F": "f", "G": "ɡ", "HH": "h", "IH": "ɪ", "IY": "i",
       "JH": "dʒ", "K": "k", "L": "l", "M": "m", "N": "n", "NG": "ŋ", "OW": "oʊ", "OY": "ɔɪ", "P": "p", "R": "ɹ",
       "S": "s", "SH": "ʃ", "T": "t", "TH": "θ", "UH": "ʊ", "UW": "u", "V": "v", "W": "w", "Y": "j", "Z": "z",
       "ZH": "ʒ"}


class Seq2SeqError(ValueError):
    """A word the page cannot run (too long), said in words."""


def ipa(phonemes: tuple[str, ...] | list[str]) -> str:
    """The IPA of ARPAbet phonemes (stress dropped but for ə and ɚ; a symbol with no IPA stays as it is)."""
    return "".join(IPA.get(p, IPA.get(p.rstrip("012"), p)) for p in phonemes)


@dataclass(frozen=True)
class G2P:
    """The trained model: encoder and decoder GRUs (gru-viz Models), the embeddings and the output layer."""

    encoder: Model
    decoder: Model
    enc_emb: np.ndarray  # (29, 256), a row per grapheme
    dec_emb: np.ndarray  # (74, 256), a row per phoneme
    fc_w: np.ndarray  # (74, 256)
    fc_b: np.ndarray  # (74,)


def _gru(arrays: dict[str, np.ndarray], side: str) -> Model:
    """One of g2p-en's GRUs as a gru-viz Model: its arrays are torch's state_dict, r, z, n rows and both biases."""
    spec = Spec("gru", HIDDEN, HIDDEN)
    return Model(spec, {"weight_ih_l0": arrays[f"{side}_w_ih"], "weight_hh_l0": arrays[f"{side}_w_hh"],
                        "bias_ih_l0": arrays[f"{side}_b_ih"], "bias_hh_l0": arrays[f"{side}_b_hh"]})


@cache
def g2p(path: Path = WEIGHTS) -> G2P:
    """The shipped model, read once (no pickle: the file holds plain arrays)."""
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: np.asarray(f[k], dtype=np.float64) for k in f.files}
    return G2P(_gru(arrays, "enc"), _gru(arrays, "dec"), arrays["enc_emb"], arrays["dec_emb"], arrays["fc_w"],
               arrays["fc_b"])


@dataclass(frozen=True)
class Transcription:
    """One word through the encoder–decoder: both runs, every step's scores, and what was said about the input."""

    word: str  # as typed
    text: str  # lower-cased: what the encoder reads
    enc_symbols: tuple[str, ...]  # the encoder's input symbols: a letter, "<unk>", and "</s>" last
    unknown: tuple[str, ...]  # the characters read as <unk>, each once, in order
    enc: Trace  # the encoder's run, T = len(text) + 1
    dec: Trace  # the decoder's run, one step per emitted symbol (with </s> when it came)
    dec_inputs: tuple[str, ...]  # what each decoder step read: "<s>", then the phoneme emitted before
    outputs: tuple[str, ...]  # what each decoder step emitted (its argmax)
    logits: np.ndarray  # (T_dec, 74)
    probs: np.ndarray  # (T_dec, 74), softmax of the logits
    targets: tuple[str, ...] = PHONEMES  # the decoder's symbols, by id
    end_mark: str = "</s>"  # the decoder's end mark
    how: object = None  # another model's typed text as tokenised (a core.tokens.Tokenised), None for g2p-en

    @property
    def phonemes(self) -> tuple[str, ...]:
        """The pronunciation (any model's answer): the emitted symbols before the end mark."""
        return self.outputs[:-1] if self.outputs and self.outputs[-1] == self.end_mark else self.outputs

    @property
    def capped(self) -> bool:
        """Whether the decoder stopped at its cap (g2p-en's 20 phonemes) rather than by emitting its end mark."""
        return not (self.outputs and self.outputs[-1] == self.end_mark)

    @property
    def ipa(self) -> str:
        """The pronunciation in IPA."""
        return ipa(self.phonemes)

    def top(self, step: int, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` most likely symbols at a decoder step, with their probabilities, most likely first."""
        order = np.argsort(-self.probs[step], kind="stable")[:k]
        return [(self.targets[i], float(self.probs[step, i])) for i in order]


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _joined(steps: list[Trace], spec: Spec) -> Trace:
    """One Trace of the decoder from its one-step runs, each started from the state the step before left."""
    lts = [s.layer(0, 0) for s in steps]
    cat = lambda arrays: np.concatenate(arrays, axis=0)  # noqa: E731
    lt = LayerTrace(0, 0, cat([t.x for t in lts]), lts[0].h0, cat([t.h for t in lts]),
                    {g: cat([t.gates[g] for t in lts]) for g in lts[0].gates},
                    {g: cat([t.pre[g] for t in lts]) for g in lts[0].pre})
    return Trace(spec, [[lt]], lt.h[:, 0], lt.h[-1], None, batched=False)


_INDEX = {g: i for i, g in enumerate(GRAPHEMES) if len(g) == 1}  # the 26 letters


def letter_ids(text: str) -> list[int]:
    """The encoder's input: each character's row of the letter embedding (<unk> if it is no letter), then </s>."""
    return [_INDEX.get(ch, UNK) for ch in text] + [END]


def encode(text: str, model: G2P | None = None) -> Trace:
    """The encoder's run over ``text`` (already lower-cased) and the end mark, from a zero state."""
    m = model or g2p()
    return m.encoder.run(m.enc_emb[letter_ids(text)], h0=np.zeros((1, HIDDEN)))


def transcribe(word: str, model: G2P | None = None) -> Transcription:
    """``word`` through g2p-en's encoder–decoder, as its ``predict`` runs it (lower-cased first)."""
    if len(word) > MAX_WORD:
        raise Seq2SeqError(f"the word has {len(word)} characters; the page reads at most {MAX_WORD}")
    m = model or g2p()
    text = word.lower()
    ids = letter_ids(text)
    symbols = tuple(GRAPHEMES[i] for i in ids)
    unknown = tuple(dict.fromkeys(ch for ch in text if ch not in _INDEX))
    enc = encode(text, m)
    steps, fed, chosen, lg = _greedy(m.decoder, m.dec_emb, m.fc_w, m.fc_b, enc.h_n, START, P_END, CAP)
    return Transcription(word, text, symbols, unknown, enc, _joined(steps, m.decoder.spec),
                         tuple(PHONEMES[i] for i in fed), tuple(PHONEMES[i] for i in chosen), lg, _softmax(lg))


def _greedy(decoder: Model, dec_emb: np.ndarray, fc_w: np.ndarray, fc_b: np.ndarray, h: np.ndarray, start: int,
            end: int, cap: int, relu: bool = False) -> tuple[list[Trace], list[int], list[int], np.ndarray]:
    """The decoder from state ``h``, fed ``start`` and then its own argmax until ``end`` or ``cap`` symbols: its
    steps' runs, the ids it was fed, the ids it chose, and its scores at each step (steps × vocabulary).

    One step at a time, each from the state the last one left, because its next input is its own argmax: the states
    on screen are the very ones that chose each symbol (a rerun over the emitted prefix could differ from them in the
    last bit, since the input products are then batched differently). ``relu``: the decoder reads relu of its
    embedding (the PyTorch tutorial's DecoderRNN)."""
    fed, steps, chosen, logits = [start], [], [], []
    for _ in range(cap):
        x = dec_emb[[fed[-1]]]
        run = decoder.run(np.maximum(x, 0.0) if relu else x, h0=h)
        h = run.h_n
        z = h[0] @ fc_w.T + fc_b
        best = int(np.argmax(z))
        steps.append(run)
        logits.append(z)
        chosen.append(best)
        if best == end:
            break
        fed.append(best)
    return steps, fed[: len(chosen)], chosen, np.stack(logits)


# ------------------------------------------------------------------------------- what the last state carries


def word_list() -> tuple[str, ...]:
    """The shipped English words (g2p-en's homograph headwords; see data/g2p_en/NOTICE)."""
    return tuple(w for w in WORDS.read_text(encoding="utf-8").split() if w)


VOWELS = frozenset("aeiou")
FEATURES = {  # name → what it is of a word, as the page says it
    "letters": "the number of letters",
    "vowels": "the number of vowel letters (a, e, i, o, u)",
    "final e": "whether it ends in “e”",
    "first vowel": "whether it starts with a vowel letter",
}


def feature_values(words: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Each feature of :data:`FEATURES` for every word."""
    return {
        "letters": np.array([len(w) for w in words], float),
        "vowels": np.array([sum(ch in VOWELS for ch in w) for w in words], float),
        "final e": np.array([w.endswith("e") for w in words], float),
        "first vowel": np.array([w[:1] in VOWELS for w in words], float),
    }


@dataclass(frozen=True)
class Finding:
    """The unit of the encoder's last state that follows a feature most closely over the word list."""

    feature: str
    unit: int
    r: float  # Pearson correlation of that unit with the feature
    chance: float  # the best |r| of any unit when the feature is shuffled over the words (a baseline)

    @property
    def strength(self) -> str:
        """strong, moderate, weak or none, from |r|."""
        return strength(self.r)

    @property
    def what(self) -> str:
        """The feature in words."""
        return FEATURES[self.feature]


def final_states(words: tuple[str, ...], model: G2P | None = None) -> np.ndarray:
    """The encoder's last state for each word, (N, 256)."""
    m = model or g2p()
    out = np.empty((len(words), HIDDEN))
    by_length: dict[int, list[int]] = {}
    for i, w in enumerate(words):
        by_length.setdefault(len(w), []).append(i)
    for rows in by_length.values():  # one batched run per word length: the same sums, row by row
        ids = np.array([letter_ids(words[i].lower()) for i in rows]).T  # (T, B)
        out[rows] = m.encoder.run(m.enc_emb[ids]).h_n[0]
    return out


def encoder_findings(words: tuple[str, ...] | None = None, seed: int = 0) -> list[Finding]:
    """For each feature, the unit whose final state correlates most with it over ``words`` (the shipped list)."""
    words = word_list() if words is None else words
    states = final_states(words)
    rng = np.random.default_rng(seed)
    out = []
    for name, values in feature_values(words).items():
        r = np.nan_to_num(correlations(states, values))  # a constant unit follows nothing: 0
        unit = int(np.argmax(np.abs(r)))
        chance = float(np.nanmax(np.abs(correlations(states, rng.permutation(values)))))
        out.append(Finding(name, unit, float(r[unit]), chance))
    return out


# -------------------------------------------------------------------------------- other encoder–decoders
# A file that holds an encoder, a decoder, their embeddings and an output layer in a layout gru-viz recognises opens
# on the Encoder–decoder page: g2p-en's own (the arrays above, from any .npz/.safetensors/.pt) and the PyTorch
# tutorial "NLP From Scratch: Translation with a Sequence to Sequence Network"'s EncoderRNN/DecoderRNN saved as one
# module's state_dict. The tutorial's decoder computes relu(embedding) → GRU → Linear → log_softmax, reads SOS (id 0)
# first, feeds back its argmax and stops at EOS (id 1) or after MAX_LENGTH = 10 steps; its encoder reads the
# sentence's word ids and EOS. Its dropout is the identity at evaluation, as here.

TUTORIAL = "the PyTorch seq2seq tutorial's EncoderRNN and DecoderRNN"
G2P_LAYOUT = "g2p-en's encoder–decoder"
TUTORIAL_CAP = 10  # the tutorial's MAX_LENGTH
SOS, EOS = 0, 1  # the tutorial's SOS_token and EOS_token
_G2P_KEYS = ("enc_emb", "enc_w_ih", "enc_w_hh", "enc_b_ih", "enc_b_hh", "dec_emb", "dec_w_ih", "dec_w_hh",
             "dec_b_ih", "dec_b_hh", "fc_w", "fc_b")
VOCABULARY_KEYS = ("gru_viz.vocabulary.encoder", "gru_viz.vocabulary.decoder")  # metadata: JSON lists of tokens


@dataclass(frozen=True)
class Seq2Seq:
    """A recognised encoder–decoder: its two GRUs, embeddings and output layer, and how it reads and answers."""

    layout: str  # G2P_LAYOUT or TUTORIAL
    encoder: Model
    decoder: Model
    enc_emb: np.ndarray  # (V_in, I)
    dec_emb: np.ndarray  # (V_out, I)
    fc_w: np.ndarray  # (V_out, H)
    fc_b: np.ndarray  # (V_out,)
    sources: tuple[str, ...] | None  # the encoder's tokens, or None (the page takes ids)
    targets: tuple[str, ...] | None  # the decoder's tokens, or None (the page shows ids)
    start: int  # the decoder's first input
    end: int  # the decoder's end mark (the encoder reads it last, too)
    relu: bool  # the decoder applies relu to its embedding (the tutorial's DecoderRNN)
    cap: int  # the most symbols the decoder emits

    @property
    def hidden(self) -> int:
        """H of both GRUs."""
        return self.encoder.spec.hidden_size

    def target_names(self) -> tuple[str, ...]:
        """A name for every decoder id: its token, else "#id" (the tutorial's SOS and EOS by their names)."""
        return self.targets if self.targets is not None else self._names(self.fc_w.shape[0])

    def source_names(self) -> tuple[str, ...]:
        """A name for every encoder id: its token, else "#id" (the tutorial's SOS and EOS by their names)."""
        return self.sources if self.sources is not None else self._names(self.enc_emb.shape[0])

    def _names(self, size: int) -> tuple[str, ...]:
        marks = {self.start: "SOS", self.end: "EOS"} if self.layout == TUTORIAL else {}
        return tuple(marks.get(i, f"#{i}") for i in range(size))

    def as_g2p(self) -> G2P | None:
        """g2p-en's model as today's page runs it, when this is g2p-en's layout with its own vocabularies."""
        if self.layout != G2P_LAYOUT or self.sources != GRAPHEMES or self.targets != PHONEMES:
            return None
        return G2P(self.encoder, self.decoder, self.enc_emb, self.dec_emb, self.fc_w, self.fc_b)


def _gru_of(arrays: Mapping[str, np.ndarray], what: str) -> Model:
    """One GRU of a recognised layout (torch's state_dict names, no prefix): one layer, one direction."""
    from .weights import model_from_state_dict  # the state_dict reader: every inconsistency refused

    try:
        model = model_from_state_dict(arrays, "gru")
    except ValueError as exc:
        raise Seq2SeqError(f"the {what} GRU: {exc}") from None
    s = model.spec
    if s.num_layers != 1 or s.directions != 1:
        raise Seq2SeqError(f"the {what} GRU has {s.num_layers} layer(s) and {s.directions} direction(s); the "
                           "Encoder–decoder page runs one layer, one direction")
    return model


def _vocabulary(metadata: Mapping[str, str], key: str, size: int) -> tuple[str, ...] | None:
    """A vocabulary from the file's metadata (a JSON list of ``size`` distinct tokens), or None."""
    import json

    from ..core.tokens import TokenError, check_vocabulary

    text = metadata.get(key)
    if text is None:
        return None
    try:
        tokens = json.loads(text)
    except ValueError:
        raise Seq2SeqError(f"the file's {key} metadata is not a JSON list of tokens") from None
    if not isinstance(tokens, list):
        raise Seq2SeqError(f"the file's {key} metadata is not a JSON list of tokens")
    try:
        return check_vocabulary(tokens, size, f"the {key.rpartition('.')[2]}'s embedding")
    except TokenError as exc:
        raise Seq2SeqError(f"the file's {key} metadata: {exc}") from None


def _array(arrays: Mapping[str, np.ndarray], key: str, ndim: int) -> np.ndarray:
    arr = np.asarray(arrays[key], dtype=np.float64)
    if arr.ndim != ndim or not np.all(np.isfinite(arr)):
        raise Seq2SeqError(f"{key} must be {ndim}-D finite numbers, it has shape {arr.shape}")
    return arr


def recognise(arrays: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None) -> Seq2Seq | None:
    """The encoder–decoder in a file's arrays when their names are a recognised layout, else None; Seq2SeqError
    says why a recognised one cannot run (an attention decoder, shapes that do not fit)."""
    metadata = metadata or {}
    keys = set(arrays)
    if all(k in keys for k in _G2P_KEYS):
        enc = _gru_of({f"{n}_l0": arrays[f"enc_{a}"] for n, a in _TORCH_NAMES.items()}, "encoder")
        dec = _gru_of({f"{n}_l0": arrays[f"dec_{a}"] for n, a in _TORCH_NAMES.items()}, "decoder")
        enc_emb, dec_emb = _array(arrays, "enc_emb", 2), _array(arrays, "dec_emb", 2)
        fc_w, fc_b = _array(arrays, "fc_w", 2), _array(arrays, "fc_b", 1)
        sources = _vocabulary(metadata, VOCABULARY_KEYS[0], enc_emb.shape[0])
        targets = _vocabulary(metadata, VOCABULARY_KEYS[1], dec_emb.shape[0])
        if sources is None and targets is None and enc_emb.shape[0] == len(GRAPHEMES) \
                and dec_emb.shape[0] == len(PHONEMES):
            sources, targets = GRAPHEMES, PHONEMES  # g2p-en's vocabularies live in its code, not in the file
        start = targets.index("<s>") if targets is not None and "<s>" in targets else START
        end = targets.index("</s>") if targets is not None and "</s>" in targets else P_END
        out = Seq2Seq(G2P_LAYOUT, enc, dec, enc_emb, dec_emb, fc_w, fc_b, sources, targets, start, end, False, CAP)
    elif {"encoder.embedding.weight", "decoder.embedding.weight", "decoder.out.weight"} <= keys:
        attention = sorted(k for k in keys if k.startswith("decoder.") and "att" in k.lower())
        if attention:
            raise Seq2SeqError(f"its decoder has attention ({', '.join(attention[:3])}): the Encoder–decoder page "
                               "runs the tutorial's plain DecoderRNN, whose only link to the encoder is its last "
                               "state; save a model with DecoderRNN to explore it here")
        grus = {side: {k[len(f"{side}.gru."):]: v for k, v in arrays.items() if k.startswith(f"{side}.gru.")}
                for side in ("encoder", "decoder")}
        for side, found in grus.items():
            if not found:
                raise Seq2SeqError(f"no {side}.gru.* arrays: the tutorial's {side} keeps its GRU as {side}.gru")
        enc, dec = _gru_of(grus["encoder"], "encoder"), _gru_of(grus["decoder"], "decoder")
        enc_emb = _array(arrays, "encoder.embedding.weight", 2)
        dec_emb = _array(arrays, "decoder.embedding.weight", 2)
        fc_w = _array(arrays, "decoder.out.weight", 2)
        fc_b = (_array(arrays, "decoder.out.bias", 1) if "decoder.out.bias" in keys else np.zeros(fc_w.shape[0]))
        sources = _vocabulary(metadata, VOCABULARY_KEYS[0], enc_emb.shape[0])
        targets = _vocabulary(metadata, VOCABULARY_KEYS[1], dec_emb.shape[0])
        out = Seq2Seq(TUTORIAL, enc, dec, enc_emb, dec_emb, fc_w, fc_b, sources, targets, SOS, EOS, True,
                      TUTORIAL_CAP)
    else:
        return None
    _check_shapes(out)
    return out


_TORCH_NAMES = {"weight_ih": "w_ih", "weight_hh": "w_hh", "bias_ih": "b_ih", "bias_hh": "b_hh"}


def _check_shapes(m: Seq2Seq) -> None:
    """Refuse an encoder–decoder whose parts do not fit together, naming the arrays and both shapes."""
    e, d = m.encoder.spec, m.decoder.spec
    checks = [
        (m.enc_emb.shape[1] == e.input_size, f"the encoder's embedding gives {m.enc_emb.shape[1]} values per "
                                             f"token, its GRU reads {e.input_size}"),
        (m.dec_emb.shape[1] == d.input_size, f"the decoder's embedding gives {m.dec_emb.shape[1]} values per "
                                             f"token, its GRU reads {d.input_size}"),
        (e.hidden_size == d.hidden_size, f"the decoder starts from the encoder's state: H = {e.hidden_size} and "
                                         f"{d.hidden_size} differ"),
        (m.fc_w.shape[1] == d.hidden_size, f"the output layer reads {m.fc_w.shape[1]} values, the decoder "
                                           f"gives {d.hidden_size}"),
        (m.fc_b.shape == (m.fc_w.shape[0],), f"the output layer's bias has shape {m.fc_b.shape}, its weight "
                                             f"{m.fc_w.shape}"),
        (m.fc_w.shape[0] == m.dec_emb.shape[0], f"the decoder feeds back its output: {m.fc_w.shape[0]} outputs "
                                                f"but {m.dec_emb.shape[0]} embedding rows"),
        (max(m.start, m.end) < m.dec_emb.shape[0], "the decoder's vocabulary has no start and end marks"),
        (m.enc_emb.shape[0] > m.end, "the encoder's vocabulary has no end mark"),
    ]
    for ok, why in checks:
        if not ok:
            raise Seq2SeqError(why)


def read_seq2seq_bytes(data: bytes, filename: str) -> Seq2Seq | None:
    """The encoder–decoder in an uploaded file (.npz, .safetensors, .pt/.pth: read as plain arrays, no code run)
    when its layout is recognised, else None (the file is then read as one recurrent model)."""
    from .formats import npz, safetensors, torch_pickle

    suffix = Path(str(filename)).suffix.lower()
    readers = {".npz": npz.read_with_metadata, ".safetensors": safetensors.read_with_metadata,
               ".pt": torch_pickle.read_with_metadata, ".pth": torch_pickle.read_with_metadata}
    if suffix not in readers:
        return None
    try:
        arrays, metadata = readers[suffix](bytes(data))
    except ValueError:
        return None  # the ordinary reader says what is wrong with the file
    return recognise(arrays, metadata)


def tutorial_text(text: str) -> str:
    """A sentence as the tutorial's ``normalizeString`` makes it before it is read: lower-cased, accents dropped
    (Unicode NFD without combining marks), a space before . ! ?, any run of other characters one space."""
    plain = "".join(c for c in unicodedata.normalize("NFD", text.lower().strip()) if unicodedata.category(c) != "Mn")
    return re.sub(r"[^a-zA-Z.!?]+", " ", re.sub(r"([.!?])", r" \1", plain)).strip()


def run_seq2seq(text: str, m: Seq2Seq) -> Transcription:
    """``text`` through a recognised encoder–decoder, greedily, as its own code decodes (g2p-en's ``predict``, the
    tutorial's ``evaluate``): the encoder reads the text's tokens and the end mark from a zero state; the decoder
    starts from its last state with the start mark and feeds back its most likely symbol until the end mark or its
    cap. Seq2SeqError: text it cannot read."""
    from ..core.tokens import TokenError, read_ids, tokenize

    g2p_model = m.as_g2p()
    if g2p_model is not None:
        return transcribe(text, g2p_model)  # today's g2p-en path, to the bit
    if len(text) > MAX_WORD:
        raise Seq2SeqError(f"the text has {len(text)} characters; the page reads at most {MAX_WORD}")
    read = tutorial_text(text) if m.layout == TUTORIAL and m.sources is not None else text
    try:
        tok = tokenize(read, m.sources) if m.sources is not None else read_ids(text, m.enc_emb.shape[0])
    except TokenError as exc:
        raise Seq2SeqError(str(exc)) from None
    source_names = m.source_names()
    targets = m.target_names()
    ids = [*tok.ids.tolist(), m.end]
    enc = m.encoder.run(m.enc_emb[ids], h0=np.zeros((1, m.hidden)))
    steps, fed, chosen, lg = _greedy(m.decoder, m.dec_emb, m.fc_w, m.fc_b, enc.h_n, m.start, m.end, m.cap, m.relu)
    return Transcription(text, read, tuple(source_names[i] for i in ids), tok.unknown, enc,
                         _joined(steps, m.decoder.spec), tuple(targets[i] for i in fed),
                         tuple(targets[i] for i in chosen), lg, _softmax(lg), targets, targets[m.end], tok)


MAX_TOKEN_LIST_BYTES = 20 * 2**20  # a vocabulary file uploaded beside the weights


def token_list(data: bytes, what: str) -> tuple[str, ...]:
    """The tokens of an uploaded vocabulary file: UTF-8 text, one token per line (a last empty line ignored)."""
    if len(data) > MAX_TOKEN_LIST_BYTES:
        raise Seq2SeqError(f"the {what} vocabulary file has {len(data):,} bytes; at most {MAX_TOKEN_LIST_BYTES:,}")
    try:
        text = bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Seq2SeqError(f"the {what} vocabulary file is not UTF-8 text (one token per line)") from None
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    return tuple(lines[:-1] if lines and lines[-1] == "" else lines)


def with_vocabularies(m: Seq2Seq, sources: tuple[str, ...] | None, targets: tuple[str, ...] | None) -> Seq2Seq:
    """``m`` with the encoder's and/or the decoder's tokens given (None: keep what it has); Seq2SeqError says why a
    list does not fit its embedding (count, repeats)."""
    from dataclasses import replace

    from ..core.tokens import TokenError, check_vocabulary

    try:
        src = m.sources if sources is None else check_vocabulary(sources, m.enc_emb.shape[0], "the encoder's embedding")
        tgt = m.targets if targets is None else check_vocabulary(targets, m.dec_emb.shape[0], "the decoder's embedding")
    except TokenError as exc:
        raise Seq2SeqError(str(exc)) from None
    return replace(m, sources=src, targets=tgt)
