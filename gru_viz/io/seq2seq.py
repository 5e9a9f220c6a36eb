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
    "Seq2SeqError",
    "Transcription",
    "encoder_findings",
    "g2p",
    "ipa",
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

    @property
    def phonemes(self) -> tuple[str, ...]:
        """The pronunciation: the emitted phonemes before the end mark."""
        return self.outputs[:-1] if self.outputs and self.outputs[-1] == "</s>" else self.outputs

    @property
    def capped(self) -> bool:
        """Whether the decoder stopped at its cap of 20 phonemes rather than by emitting </s>."""
        return not (self.outputs and self.outputs[-1] == "</s>")

    @property
    def ipa(self) -> str:
        """The pronunciation in IPA."""
        return ipa(self.phonemes)

    def top(self, step: int, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` most likely symbols at a decoder step, with their probabilities, most likely first."""
        order = np.argsort(-self.probs[step], kind="stable")[:k]
        return [(PHONEMES[i], float(self.probs[step, i])) for i in order]


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
    # The decoder runs one step at a time, each step from the state the last one left, because its next input is
    # its own argmax: the states on screen are the very ones that chose each phoneme (a rerun over the emitted
    # prefix could differ from them in the last bit, since the input products are then batched differently).
    h = enc.h_n  # (1, 256): the encoder's last state
    fed, steps, outputs, logits = [START], [], [], []
    for _ in range(CAP):
        run = m.decoder.run(m.dec_emb[[fed[-1]]], h0=h)
        h = run.h_n
        z = h[0] @ m.fc_w.T + m.fc_b
        best = int(np.argmax(z))
        steps.append(run)
        logits.append(z)
        outputs.append(PHONEMES[best])
        if best == P_END:
            break
        fed.append(best)
    lg = np.stack(logits)
    return Transcription(word, text, symbols, unknown, enc, _joined(steps, m.decoder.spec),
                         tuple(PHONEMES[i] for i in fed[: len(outputs)]), tuple(outputs), lg, _softmax(lg))


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
