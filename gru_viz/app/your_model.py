"""Your model: the upload hand-over (an uploaded file becomes this session's model), the hints, the CSV input, and
the page's sections (upload, summary, explore, input, export).

The upload is read from memory by :mod:`gru_viz.io.upload` (:mod:`gru_viz.io.weights` underneath) and becomes this
session's model (``ui.SESSION_MODEL``, config ``weights="session"``), so Step through, Timeline and Gradient flow
run it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ..core.model import Model
from ..core.sequences import MAX_INPUT_CHARS, MAX_WIDTH, SequenceError, format_numbers
from ..core.spec import GRU_VARIANTS, SpecError
from ..core.tokens import example_text, text_unit
from ..explain import palette
from ..explain.literal import literal, quoted
from ..figures import style
from ..io import codegen, seq2seq, upload
from ..io.formats.checks import MAX_PARAMS, MAX_WEIGHTS_BYTES, WeightsError
from ..io.mapping import TOKEN_TARGETS, mapping_call, propose_mapping
from ..io.vocabulary import read_vocabulary
from ..io.weights import HintNeeded, NeedsMapping, SeveralModules, save_safetensors
from ..serve import state
from ..serve.state import Config, Scene
from . import parity, ui
from . import seq2seq as s2s_page

FILE = "your_model_file"  # the weights uploader
CSV = "your_model_csv"  # the input uploader
NONLINEARITY, VARIANT = "your_model_nonlinearity", "your_model_variant"  # hint widgets
LAYER = "your_model_layer"  # (layer, direction) to explore
SOURCE = "your_model_source"  # "box" or "csv"
UPLOAD = "your_model_upload"  # the last accepted Upload
DATA = "your_model_data"  # (filename, bytes) of the last accepted file: hints re-read it (memory only)
HANDED = "your_model_handed"  # the Model handed to the pages (another page may replace the session model)
PENDING = "your_model_pending"  # (filename, bytes, HintNeeded) of a file that asks a question before it loads
MESSAGES = "your_model_messages"  # [(kind, text)] left by a callback for this run to show
AUTO = "auto"
VOCAB = "your_model_vocab"  # the vocabulary uploader
TOKENS = "your_model_tokens"  # (filename, tokens) of the accepted vocabulary file
OPTIONS = "your_model_options"  # the loader's keys/gate_order/transpose/prefix the learner confirmed for this file
ASKED = "your_model_asked"  # (filename, bytes, NeedsMapping | SeveralModules) of a file waiting for a mapping or module
MAP = "your_model_map_"  # + a torch name, gate_order, transpose, group: the mapping's widgets
MODULE = "your_model_module"  # the module picker
NONE = "(none)"
MAX_LISTED = 1000  # arrays listed and offered by the mapping (a file may hold up to 100,000)
GATE_ORDERS = {"": "as torch keeps them (r z n)", "z r n": "z r n (Keras, ONNX)"}
TRANSPOSES = {"auto": "when the shape says so", "yes": "transpose every matrix (kernels kept as (in, out))",
              "no": "as stored (torch's (out, in))"}

# -------------------------------------------------------------------------------------------- hand-over


def say(kind: str, text: str) -> None:
    """Leave a message (from a callback) for the page to show."""
    st.session_state.setdefault(MESSAGES, []).append((kind, text, False))  # not seen yet


def explorable(model: Model) -> Model:
    """The model the other pages run: a cell becomes the one-layer sequence model it is, stepped over time."""
    s = model.spec
    if s.cell:
        return upload.layer_model(model, 0, 0).with_tokens(model.embedding, model.readout)
    if s.batch_first:
        return Model(s.with_(batch_first=False), model.params, embedding=model.embedding, readout=model.readout)
    return model


def hand_over(up: upload.Upload) -> None:
    """Make the upload this session's model: every page's config now says weights="session" (a callback)."""
    model = explorable(up.model)
    s = model.spec
    if s.input_size > MAX_WIDTH and model.embedding is None:
        say("warning", f"This model reads {s.input_size} values per step; the app's inputs carry at most "
                       f"{MAX_WIDTH}, so the other pages cannot run it. Its summary and export below still work.")
        return
    st.session_state[ui.SESSION_MODEL] = st.session_state[HANDED] = model
    st.session_state[ui.SESSION_MODEL_NAME] = up.filename
    cfg = ui.config()
    widest = state.PROPS["hidden"].top()  # the largest H this server's pages run (the classroom profile: less)
    new = replace(cfg, weights="session", cell=s.kind, hidden=min(s.hidden_size, widest),
                  variant=s.variant if s.kind == "gru" else cfg.variant, scale=1.0, clamp="", h0="zeros",
                  t=0, unit=0)
    if model.embedding is not None:  # it reads tokens: the learner types text (or ids), the embedding makes x
        new = replace(new, source="text", seq=example_text(model.vocabulary, model.embedding.size) or new.seq)
        say("info", tokens_note(model))
    elif input_width(new) != s.input_size:  # keep what the person typed if it fits; else a visible example
        # the example lives in the link (PROPS["seq"] holds at most 20,000 characters, ~5.5 per value): a wide
        # model's example has fewer steps
        example = upload.example_input(s.input_size, steps=max(2, min(12, 3000 // s.input_size)))
        new = replace(new, source="typed", seq=format_numbers(example))
        say("info", f"The sequence box had inputs of another width, so it now holds an {example.source}: "
                    "type your own there, or upload a CSV below.")
    if s.hidden_size > widest:
        say("warning", f"H = {s.hidden_size}: this server's pages run cells of up to {widest} units, so "
                       "some views may be slow.")
    st.session_state[LAYER] = st.session_state[ui.LAYER_CHOICE] = (0, 0)
    ui.apply(new)


def tokens_note(model: Model) -> str:
    """What the hand-over says about a model that reads tokens: where to type, and what it reads."""
    emb = model.embedding
    if model.vocabulary is None:
        return (f"This model starts with an embedding of {emb.size:,} rows, but its file names no tokens: the "
                "sidebar's text box takes token ids (whole numbers such as 3 14 15). Upload a vocabulary beside the "
                "weights (one token per line) to type words instead.")
    unit = text_unit(model.vocabulary)
    return (f"This model starts with an embedding of {emb.size:,} tokens ({unit}s): type text into the sidebar's "
            "text box and Step through and Timeline read it through the model's own vocabulary."
            + (" It has a readout too: Step through shows its top choices at every step." if model.readout else ""))


def hand_over_seq2seq(name: str, pair: seq2seq.Seq2Seq) -> None:
    """Make an uploaded encoder–decoder the Encoder–decoder page's model (a callback); the pages' model stays."""
    st.session_state[s2s_page.SESSION] = (name, pair)
    st.session_state.pop(PENDING, None)
    s2s_page.use_uploaded()
    vocab = ("its vocabularies from the file" if pair.sources is not None else
             "no vocabularies (the file names no tokens: it reads and answers token ids)")
    say("success", f"{literal(name, 60)} holds an encoder–decoder ({pair.layout}: two GRUs of H = {pair.hidden}, "
                   f"{vocab}). It opens on the **Encoder–decoder** page.")


def input_width(cfg: Config) -> int | None:
    """The width of the config's input sequence, or None if it does not parse."""
    try:
        return state.build_sequence(cfg).width
    except SequenceError:
        return None


def on_file() -> None:
    """Callback of the uploader: read the new file (clearing the widget keeps the model)."""
    file = st.session_state.get(FILE)
    if file is not None:
        for key in (PENDING, ASKED, OPTIONS):  # a new file: the last one's question, mapping and module go
            st.session_state.pop(key, None)
        load(file.name, file.getvalue())


def on_hint() -> None:
    """Callback of the hints: read the waiting or the accepted file again with them."""
    pending = st.session_state.get(PENDING) or st.session_state.get(ASKED)
    if pending is not None:
        load(*pending[:2])
    elif st.session_state.get(DATA) is not None:
        load(*st.session_state[DATA])


def on_vocab() -> None:
    """Callback of the vocabulary uploader: read the tokens and load the file again with them."""
    file = st.session_state.get(VOCAB)
    if file is None:
        return
    try:
        tokens = read_vocabulary(file.getvalue())
    except WeightsError as exc:
        say("error", f"Refused {quoted(file.name)}: {ui.message(exc)}")
        return
    before = st.session_state.get(TOKENS)
    st.session_state[TOKENS] = (file.name, tokens)
    waiting = st.session_state.get(PENDING) or st.session_state.get(ASKED)
    target = waiting[:2] if waiting is not None else st.session_state.get(DATA)
    if target is not None and not load(*target):
        st.session_state[TOKENS] = before  # the model keeps the vocabulary it had (or none)
    elif target is not None:
        say("success", f"{literal(file.name, 60)}: {len(tokens):,} tokens now name the embedding's rows.")


def confirm_mapping() -> None:
    """Callback of the mapping's button: load the waiting file with the mapping on screen."""
    asked = st.session_state.get(ASKED)
    if asked is None:
        return
    st.session_state[OPTIONS] = chosen_mapping(asked[2])
    load(*asked[:2])


def pick_module() -> None:
    """Callback of the module picker's button: load the waiting file's chosen module."""
    asked = st.session_state.get(ASKED)
    if asked is None:
        return
    st.session_state[OPTIONS] = {"prefix": st.session_state.get(MODULE)}
    load(*asked[:2])


def regroup() -> None:
    """Callback of the mapping's module picker: propose the mapping for that module (the widgets take it)."""
    asked = st.session_state.get(ASKED)
    if asked is not None and isinstance(asked[2], NeedsMapping):
        put_proposal(propose_mapping(asked[2].arrays, st.session_state.get(MAP + "group")))


def shown_source(source: object) -> str:
    """A mapping's source as a selectbox option: a name, or per-gate names joined by " + " (zeros: "0")."""
    if source is None:
        return NONE
    if isinstance(source, tuple):
        return " + ".join("0" if p is None else p for p in source)
    return str(source)


def parsed_source(option: str) -> object:
    """The mapping source a selectbox option stands for (see :func:`shown_source`)."""
    if option == NONE:
        return None
    if " + " in option:
        return tuple(None if p == "0" else p for p in option.split(" + "))
    return option


def put_proposal(p: object) -> None:
    """Set the mapping's widgets to a proposal (the learner may change them before confirming)."""
    for target in mapping_targets(p):
        st.session_state[MAP + target] = shown_source(p.keys.get(target))
    st.session_state[MAP + "gate_order"] = p.gate_order or ""
    st.session_state[MAP + "transpose"] = {None: "auto", True: "yes", False: "no"}[p.transpose]
    st.session_state[MAP + "group"] = p.group


def mapping_targets(p: object) -> list[str]:
    """The torch names the mapping's widgets offer: the proposal's, else one layer's and the embedding's, readout's."""
    base = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    return list(dict.fromkeys([*base, *(k for k in p.keys if k not in TOKEN_TARGETS), *TOKEN_TARGETS]))


def chosen_mapping(exc: NeedsMapping) -> dict:
    """The loader's options as the mapping's widgets say them."""
    keys = {}
    for target in mapping_targets(exc.proposal):
        source = parsed_source(st.session_state.get(MAP + target, NONE))
        if source is not None:
            keys[target] = source
    order = st.session_state.get(MAP + "gate_order", "")
    transpose = {"auto": None, "yes": True, "no": False}[st.session_state.get(MAP + "transpose", "auto")]
    return {"keys": keys, "gate_order": order or None, "transpose": transpose}


def answer(hint: str, value: str) -> None:
    """Callback of a question's buttons: set the hint the file asked for and read the file with it."""
    pending = st.session_state.get(PENDING)
    if pending is None:
        return
    st.session_state[VARIANT if hint == "variant" else NONLINEARITY] = value
    load(*pending[:2])


def load(name: str, data: bytes) -> bool:
    """Read a weights file; hand the model over if it is accepted, else say why (the old model stays)."""
    try:  # an encoder–decoder in a recognised layout opens on the Encoder–decoder page
        pair = seq2seq.read_seq2seq_bytes(data, name)
    except seq2seq.Seq2SeqError as exc:
        say("error", f"Refused {quoted(name)}: it holds an encoder–decoder that gru-viz cannot run: {ui.message(exc)}")
        return False
    if pair is not None:
        hand_over_seq2seq(name, pair)
        return True
    hint_nl, hint_v = st.session_state.get(NONLINEARITY, AUTO), st.session_state.get(VARIANT, AUTO)
    options = dict(st.session_state.get(OPTIONS) or {})
    tokens = st.session_state.get(TOKENS)
    if tokens is not None:
        options["vocabulary"] = tokens[1]
    try:
        up = upload.read_upload(data, name, nonlinearity=None if hint_nl == AUTO else hint_nl,
                                variant=None if hint_v == AUTO else hint_v, **options)
    except HintNeeded as exc:  # the file does not say something its numbers depend on: ask (the old model stays)
        st.session_state[PENDING] = (name, data, exc)
        return False
    except (NeedsMapping, SeveralModules) as exc:  # ask for a mapping or a module (the old model stays)
        fresh = st.session_state.get(ASKED) is None or st.session_state[ASKED][:2] != (name, data)
        st.session_state[ASKED] = (name, data, exc)
        if isinstance(exc, NeedsMapping) and fresh:
            put_proposal(exc.proposal)
        if isinstance(exc, SeveralModules) and st.session_state.get(MODULE) not in exc.modules:
            st.session_state[MODULE] = next(iter(exc.modules))
        return False
    except (WeightsError, SpecError, ValueError) as exc:
        say("error", f"Refused {quoted(name)}: {ui.message(exc)}")
        return False
    except Exception as exc:  # a loader bug, not the file's fault: still no traceback in the page
        say("error", f"Could not read {quoted(name)} ({type(exc).__name__}); nothing was loaded.")
        return False
    for key in (PENDING, ASKED):
        st.session_state.pop(key, None)
    st.session_state[DATA] = (name, data)
    st.session_state[UPLOAD] = up
    hand_over(up)
    return True


def read_csv() -> None:
    """Callback of the CSV uploader: validate it and put it in the shared sequence box."""
    file = st.session_state.get(CSV)
    model = st.session_state.get(ui.SESSION_MODEL)
    if file is None or model is None:
        return
    try:
        seq = upload.parse_csv(file.getvalue(), model.spec.input_size, file.name)
        text = format_numbers(seq)
        if len(text) > MAX_INPUT_CHARS:
            raise SequenceError(f"written out, the CSV's numbers take {len(text):,} characters; the sequence box "
                                f"holds at most {MAX_INPUT_CHARS:,}")
    except SequenceError as exc:
        say("error", f"Refused {quoted(file.name)}: {ui.message(exc)}")
        return
    ui.apply(replace(ui.config(), source="typed", seq=text, t=0))
    say("success", f"{literal(file.name, 60)}: {seq.steps} steps of {seq.width} value(s) are now the input (in the "
                   "sequence box).")


def pick_layer() -> None:
    """Callback of the layer picker: share the choice (ui.LAYER_CHOICE) with the pages that draw one layer."""
    st.session_state[ui.LAYER_CHOICE] = st.session_state[LAYER]


def forget() -> None:
    """Drop the uploaded model; if the pages still run it, they go back to random weights."""
    if st.session_state.get(ui.SESSION_MODEL) is st.session_state.get(HANDED):
        for key in (ui.SESSION_MODEL, ui.SESSION_MODEL_NAME, ui.LAYER_CHOICE):
            st.session_state.pop(key, None)
        ui.apply(replace(ui.config(), weights="random"))
    for key in (UPLOAD, DATA, HANDED, LAYER, PENDING, ASKED, OPTIONS, TOKENS):
        st.session_state.pop(key, None)


def reverse_box() -> None:
    """Put the sequence box's steps in reverse order (for a model that reads its input backwards)."""
    cfg = ui.config()
    try:
        seq = state.build_sequence(cfg, st.session_state[ui.SESSION_MODEL].spec.input_size
                                   if ui.SESSION_MODEL in st.session_state else None)
    except SequenceError as exc:
        say("error", f"The sequence box does not parse, so it was not reversed: {exc}")
        return
    flipped = upload.as_sequence(seq.values[::-1], f"{seq.source}, reversed")
    ui.apply(replace(cfg, source="typed", seq=format_numbers(flipped), t=0))
    say("success", f"The sequence box now holds its {seq.steps} steps in reverse order.")


def use_example() -> None:
    """Put an example input of the model's width in the sequence box."""
    model = st.session_state.get(ui.SESSION_MODEL)
    if model is not None:
        example = upload.example_input(model.spec.input_size)
        ui.apply(replace(ui.config(), source="typed", seq=format_numbers(example), t=0))


# ------------------------------------------------------------------------------------------------ views

LEAD = (
    "Upload a recurrent model as you saved it: a `state_dict` of **`nn.GRU`, `nn.LSTM`, `nn.RNN`** or their "
    "**`…Cell`** versions (any layers, bidirectional, LSTM projections) or a minGRU's; a **Keras** `.keras` or "
    "`.h5` model or `.weights.h5` (GRU, LSTM, SimpleRNN, stacked or Bidirectional; an Embedding before them and a "
    "Dense after them are kept); an **ONNX** model with `GRU` / `LSTM` / "
    "`RNN` nodes. It becomes this session's model: every page runs it."
)

NOTES = f"""
- **Formats.** Reading `.safetensors`, `.npz`, `.keras`, `.h5` or `.onnx` runs no code (a Keras config
  naming a custom class or a Lambda layer is refused). A `.pt` / `.pth` is a pickle, which can
  run any code when loaded; it is opened with `torch.load(weights_only=True)` (tensors and plain containers only;
  escapes were fixed in torch 2.6.0, CVE-2025-32434, and 2.10.0, CVE-2026-24747).
- **Whole models.** The recurrent layers are read as one stack. In a state_dict, the embedding beside the recurrent
  module (`embedding.weight`, …) and the output layer after it (`fc`, `out`, `head`, …) are kept with it; other layers
  are listed and left out. A file with several recurrent modules (an encoder and a decoder) asks which one to load;
  a file whose arrays have other names than PyTorch's gets a proposed mapping to check and confirm.
- **Limits.** {st.get_option("server.maxUploadSize")} MB per file (`server.maxUploadSize` in `.streamlit/config.toml`,
  re-checked by the loader: {MAX_WEIGHTS_BYTES // 2**20} MB), {MAX_PARAMS:,} recurrent parameters, sizes up to
  {upload.MAX_UPLOAD_SIZE}, 4 layers. Every refusal says what was wrong.
- **Privacy.** The file stays in this session's memory: never written to disk, never shared, gone with the tab.
  {state.SESSION_MODEL_HOME}
"""


def upload_section() -> upload.Upload | None:
    """The uploader and the hints; returns the accepted upload (kept when the file widget is cleared)."""
    left, right = st.columns([3, 2], gap="large")
    left.file_uploader(
        "Model file (.safetensors, .npz, .pt, .pth, .keras, .h5, .onnx)", key=FILE, on_change=on_file,
        help="A state_dict of nn.GRU / nn.LSTM / nn.RNN (or a model containing one: its prefix is stripped and "
             "other submodules ignored) or of a cell module; a Keras 3 model or weights file; an ONNX model with "
             "GRU, LSTM or RNN nodes; or a Keras layer's kernel, recurrent_kernel and bias in an .npz.",
    )
    left.file_uploader(
        "Vocabulary (optional): a text file, one token per line, in the embedding's row order", type=["txt"],
        key=VOCAB, on_change=on_vocab,
        help="UTF-8, one token per line as written (spaces kept), no empty lines, no token twice, up to 4 MB; as many "
             "lines as the embedding has rows. It names the rows, so the pages can show tokens.")
    tokens = st.session_state.get(TOKENS)
    if tokens is not None:
        left.caption(f"Vocabulary: {literal(tokens[0], 60)}, {len(tokens[1]):,} tokens.")
    with right:
        st.caption("Weights do not say these (a .keras or .onnx file does); pick them if yours differ from the "
                   "defaults.")
        st.selectbox("RNN nonlinearity", (AUTO, "tanh", "relu"), key=NONLINEARITY, on_change=on_hint,
                     format_func=lambda v: "as the file says (default tanh)" if v == AUTO else v)
        st.selectbox("GRU variant", (AUTO, *GRU_VARIANTS), key=VARIANT, on_change=on_hint,
                     format_func=lambda v: "as the file says (default PyTorch's)" if v == AUTO
                     else GRU_VARIANTS[v].name,
                     help="Where the reset gate acts and what z weights: see the home page's equations.")
    st.caption(NOTES)
    return st.session_state.get(UPLOAD)


def question_section() -> None:
    """What a waiting file asks before it loads (a bias-free Keras GRU's reset_after), with one button per answer."""
    pending = st.session_state.get(PENDING)
    if pending is None:
        return
    name, _, exc = pending
    with st.container(border=True):
        st.warning(f"**{literal(name, 60)} does not say how to compute it.** {exc.question} Which is it?",
                   icon=":material/help:")
        for value, label in exc.choices.items():  # one under the other: the labels stay whole at any width
            st.button(label, key=f"your_model_answer_{value}", on_click=answer, args=(exc.hint, value),
                      width="stretch")
        st.caption("If you do not know: Keras's default is reset_after=True. Saving the whole model "
                   "(model.save('model.keras')) records it, and then nobody has to ask.")


def mapping_section() -> None:
    """A file waiting for a mapping (its names are not torch's) or for one of its modules to be picked."""
    asked = st.session_state.get(ASKED)
    if asked is None:
        return
    name, _, exc = asked
    with st.container(border=True):
        if isinstance(exc, SeveralModules):
            modules_view(name, exc)
        else:
            names_view(name, exc)


def modules_view(name: str, exc: SeveralModules) -> None:
    """The modules found in a state_dict, a picker, and the Python call that picks the same."""
    st.warning(f"**{literal(name, 60)} holds {len(exc.modules)} recurrent modules.** Pick the one to explore; its "
               "embedding and output layer, if it has them beside it, come along.", icon=":material/account_tree:")
    st.radio("Recurrent module", list(exc.modules), key=MODULE,  # (a radio's labels are markdown: the names literal)
             format_func=lambda p: literal(f"{p or '(top level)'} — {exc.modules[p]}", 160))
    st.code(mapping_call(name, prefix=st.session_state.get(MODULE)), language="python", wrap_lines=True)
    st.button("Load this module", on_click=pick_module, type="primary", icon=":material/check:")


def names_view(name: str, exc: NeedsMapping) -> None:
    """The file's arrays with their shapes, the proposed mapping as editable choices, and its Python call."""
    p = exc.proposal
    st.warning(f"**{literal(name, 60)} does not use PyTorch's names** (weight_ih_l0, weight_hh_l0, …). Here are its "
               "arrays and a mapping proposed from their names and shapes: check it, change what is wrong, confirm.",
               icon=":material/rule:")
    left, right = st.columns([2, 3], gap="large")
    listed = list(exc.arrays.items())[:MAX_LISTED]
    left.dataframe({"array": [n for n, _ in listed], "shape": [" × ".join(map(str, s)) or "scalar" for _, s in listed]},
                   hide_index=True, width="stretch", height=min(38 + 35 * len(listed), 640))  # no scroll up to 17
    if len(exc.arrays) > MAX_LISTED:
        left.caption(f"The first {MAX_LISTED:,} of {len(exc.arrays):,} arrays.")
    with right:
        if len(p.groups) > 1:
            st.selectbox("Module", p.groups, key=MAP + "group", on_change=regroup,
                         help="The file holds several recurrent modules: the mapping below is for this one.")
        options = [NONE, *(n for n, shape in listed if len(shape) in (1, 2))]  # what a weight, bias or table can be
        cols = st.columns(2)  # input side left, recurrent side right (one column on a phone)
        recurrent = [t for t in mapping_targets(p) if t not in TOKEN_TARGETS]
        for k, target in enumerate(recurrent):
            source_box(cols[k % 2], target, options)
        cols = st.columns(2)  # the embedding before the stack, the readout after it
        source_box(cols[0], TOKEN_TARGETS[0], options)
        for target in TOKEN_TARGETS[1:]:
            source_box(cols[1], target, options)
        cols = st.columns(2)
        cols[0].selectbox("Gate order in whole arrays", list(GATE_ORDERS), key=MAP + "gate_order",
                          format_func=GATE_ORDERS.get)
        cols[1].selectbox("Transpose", list(TRANSPOSES), key=MAP + "transpose", format_func=TRANSPOSES.get)
    if p.reasons:
        st.caption("Why: " + "; ".join(literal(r, 200) for r in p.reasons) + ".")
    chosen = chosen_mapping(exc)
    st.code(mapping_call(name, chosen["keys"], gate_order=chosen["gate_order"], transpose=chosen["transpose"]),
            language="python", wrap_lines=True)  # whole on a phone
    st.button("Load with this mapping", on_click=confirm_mapping, type="primary", icon=":material/check:")


def source_box(where: object, target: str, options: list[str]) -> None:
    """The selectbox of the file's array(s) for one torch name (the proposal's per-gate tuple kept as an option)."""
    current = st.session_state.get(MAP + target, NONE)
    where.selectbox(target, options if current in options else [*options, current], key=MAP + target)


def seq2seq_section() -> None:
    """The encoder–decoder uploaded in this session, and the way to the page that runs it."""
    held = s2s_page.uploaded()
    if held is None:
        return
    name, pair = held
    with st.container(border=True):
        st.markdown(f"**Your encoder–decoder: {literal(name, 60)}** — {pair.layout}, two GRUs of H = {pair.hidden}, "
                    f"{pair.enc_emb.shape[0]:,} input and {pair.dec_emb.shape[0]:,} output tokens.")
        st.page_link("pages/seq2seq.py", label="Open it on the Encoder–decoder page", icon=":material/translate:")


def summary_section(up: upload.Upload) -> None:
    """What the file held."""
    st.subheader(f"What {literal(up.filename, 60)} holds", anchor=False)  # no anchor made of the name
    rows = upload.summary_rows(up)
    half = (len(rows) + 1) // 2
    for col, part in zip(st.columns(2), (rows[:half], rows[half:]), strict=True):  # half the height at 720 px
        # st.table renders markdown in its cells: the file's name, keys and metadata stay literal text
        col.table({"": [r[0] for r in part], " ": [literal(r[1], 300) for r in part]}, hide_index=True,
                  hide_header=True)
    current = st.session_state.get(ui.SESSION_MODEL)
    if current is not None and current is not st.session_state.get(HANDED):
        name = literal(st.session_state.get(ui.SESSION_MODEL_NAME, "another one"), 60)
        st.info(f"This session's model is now {name}, not this file: upload it again to explore it.",
                icon=":material/info:")
    if up.backwards:
        st.warning(
            f"**This model reads your sequence backwards** ({up.backwards}). gru-viz's cells step forwards, so the "
            "pages show exactly what it computes, step by step in its reading order, when the sequence box holds "
            "your sequence reversed.", icon=":material/swap_horiz:")
        st.button("Reverse the sequence box", on_click=reverse_box, icon=":material/swap_horiz:")
    if up.model.spec.cell:
        st.caption("A cell module stepped over a sequence is a one-layer sequence model with the same weights: "
                   "the pages run it as one (exports use the one-layer keys, weight_ih_l0, …).")
    st.button("Forget this model", on_click=forget, icon=":material/delete:")


def explore_section(cfg: Config, sc: Scene | None) -> None:
    """Which layer to look at, what it reads, and the links to the pages that draw it."""
    model = st.session_state.get(ui.SESSION_MODEL)
    if model is None or cfg.weights != "session":
        if model is not None:
            st.info("The sidebar's Weights are not 'Your model' right now, so the pages show other weights.",
                    icon=":material/info:")
        return
    s = model.spec
    st.subheader("Explore it")
    if sc is not None:
        with ui.friendly("The PyTorch check"):
            parity.parity_badge(sc)
    choices = [(layer, d) for layer in range(s.num_layers) for d in range(s.directions)]
    if len(choices) > 1:
        if st.session_state.get(LAYER) not in choices:
            st.session_state[LAYER] = choices[0]
        choice = st.selectbox("Layer and direction", choices, key=LAYER, on_change=pick_layer,
                              format_func=lambda c: ui.layer_label(*c, s.directions))
        st.markdown(
            "The pages run **your whole model** on the input and show one layer and direction at a time: pick it "
            "here and in their **Layer** menu. **Layer 0** reads your sequence; **layer k > 0** reads the output of "
            "layer k − 1 — "
            f"{s.directions * s.out_size} values per step"
            + (", the forward and reverse halves side by side" if s.directions == 2 else "")
            + " — so every number shown is the one your model computes inside the stack."
            + (" The **reverse** direction reads the sequence from its last step to its first; its h[t] is the "
               "state after it has read x[t]." if s.directions == 2 else "")
        )
    else:
        choice = (0, 0)
    if model.embedding is not None:
        token_section(cfg, model)
    else:
        input_section(cfg, s.input_size)
    if sc is not None:
        with ui.stale_view(sc.stale, "preview"):  # greyed: the last good run while the input has an error
            st.plotly_chart(layer_figure(sc, choice), config={"displayModeBar": False})
    links = st.columns(4)
    for col, (page, label, icon) in zip(links, (
        ("pages/step.py", "Step through it", ":material/step:"),
        ("pages/timeline.py", "Its timeline", ":material/timeline:"),
        ("pages/gradients.py", "Its gradient flow", ":material/trending_down:"),
        (parity.MATCHES_PAGE, "Check it against PyTorch", ":material/verified:"),
    ), strict=True):
        col.page_link(page, label=label, icon=icon)


def use_text() -> None:
    """Make the sidebar's input the text box, with an example the model can read (its first tokens)."""
    model = st.session_state.get(ui.SESSION_MODEL)
    if model is not None and model.embedding is not None:
        ui.apply(replace(ui.config(), source="text", t=0,
                         seq=example_text(model.vocabulary, model.embedding.size) or ui.config().seq))


def token_section(cfg: Config, model: Model) -> None:
    """What a model with an embedding reads: text in its vocabulary (or token ids), typed in the sidebar."""
    emb = model.embedding
    if model.vocabulary is None:
        st.markdown(f"**Input.** Your model reads **token ids** (0 to {emb.size - 1:,}) through its embedding; the "
                    "file names no tokens, so type ids such as `3 14 15` in the sidebar's text box. To type words, "
                    "upload a vocabulary file beside the weights (one token per line, in the embedding's row order).")
    else:
        shown = ", ".join(literal(t, 20) for t in model.vocabulary[:12])
        more = f", … ({emb.size:,} in all)" if emb.size > 12 else ""
        st.markdown(f"**Input.** Your model reads **{text_unit(model.vocabulary)}s** from its vocabulary ({shown}"
                    f"{more}): type text in the sidebar's text box.")
    if cfg.source != "text":
        st.button("Type text into it", on_click=use_text, icon=":material/keyboard:")


def input_section(cfg: Config, width: int) -> None:
    """Where the input comes from: the shared sequence box, or a CSV file."""
    st.markdown(f"**Input.** Your model reads **{width} value{'s' if width > 1 else ''} per step**.")
    source = st.segmented_control("Input from", ("box", "csv"), key=SOURCE, default="box",
                                  format_func={"box": "the sequence box (sidebar)", "csv": "a CSV file"}.get)
    if source == "csv":
        st.file_uploader("CSV: one step per row, values separated by commas, numbers only (no header)", key=CSV,
                         on_change=read_csv,
                         help=f"T rows × {width} columns; at most 5,000 rows and {MAX_INPUT_CHARS:,} bytes.")
    got = input_width(cfg)
    if got is not None and got != width:
        st.error(f"The sequence box has {got} value{'s' if got > 1 else ''} per step; your model reads {width}. "
                 "Separate steps with ';' or new lines and the values inside a step with spaces, e.g. "
                 f"`{' '.join(['0.5'] * width)}; {' '.join(['1'] * width)}` — or upload a CSV.",
                 icon=":material/straighten:")
        st.button("Put an example input of the right width in the sequence box", on_click=use_example)


def layer_figure(sc: Scene, choice: tuple[int, int]) -> go.Figure:
    """h of the chosen layer over time and units, from the full run (a preview of what the pages draw)."""
    layer, d = choice
    lt = sc.trace.layers[layer][d]
    h = lt.h[:, 0, :].T  # (units, T)
    top = max(1.0, float(np.abs(h).max(initial=0.0)))
    fig = go.Figure(go.Heatmap(z=h, colorscale=palette.colorscale("h"), zmin=-top, zmax=top, zmid=0,
                               colorbar={"title": "h", "thickness": 12},
                               hovertemplate="t = %{x}<br>unit %{y}<br>h = %{z:.4f}<extra></extra>"))
    fig.update_layout(
        title=(f"Hidden state h of {ui.layer_label(*choice, sc.model.spec.directions)}, every step "
               "(computed by our core)"),
        height=150 + 12 * min(h.shape[0], 32), margin={"l": 50, "r": 10, "t": 40, "b": 40},
        xaxis_title="step t", yaxis_title="unit",
    )
    return style.inked(fig)


def export_section(sc: Scene) -> None:
    """Download the model the config builds, and the code that rebuilds it in torch."""
    model = sc.model
    x, h0, ablations = parity.run_of(sc)[1:]
    st.subheader("Export the current model")
    st.caption(f"{model.spec.describe()} — {weights_name(sc.cfg)}, as the pages run it (recurrent weight scale "
               "applied). Both files are state_dicts with torch's keys, in float64.")
    cols = st.columns(4)
    # the recurrent module's state_dict alone (no embedding or readout): the snippet loads it into torch.nn.GRU, …
    cols[0].download_button("Weights (.safetensors)", lambda: save_safetensors(model.with_tokens(None, None)),
                            codegen.WEIGHTS_FILE,
                            "application/octet-stream", on_click="ignore", icon=":material/download:",
                            help="Readable by safetensors.torch.load_file; carries the kind, GRU variant and "
                                 "nonlinearity in its metadata.")
    cols[1].download_button("state_dict (.pt)", lambda: pt_bytes(model), "gru_viz_model.pt",
                            "application/octet-stream", on_click="ignore", icon=":material/download:",
                            help="torch.save(state_dict): loads with torch.load(weights_only=True). The GRU variant "
                                 "and RNN nonlinearity are not in it.")
    code = codegen.snippet(model, x, h0, ablations)
    cols[2].download_button("Python snippet (.py)", code, "gru_viz_rebuild.py", "text/x-python",
                            on_click="ignore", icon=":material/code:")
    cols[3].download_button("Input (.csv)", lambda: codegen.input_csv(x), codegen.INPUT_FILE, "text/csv",
                            on_click="ignore", icon=":material/table:")
    with st.expander("Python: rebuild it in PyTorch and run the same input", icon=":material/code:"):
        st.caption("Paste it into a Python session with torch: `output` and `h_n` are the numbers these pages show "
                   "(to float64 round-off).")
        st.code(code, language="python")


def pt_bytes(model: Model) -> bytes:
    """torch.save of the state_dict (torch imported only when the button is pressed)."""
    from gru_viz.io.bridge import save_pt

    return save_pt(model)


def weights_name(cfg: Config) -> str:
    """Where the config's weights come from, in words."""
    kind, _, key = cfg.weights.partition(":")
    if kind == "session":
        return f"your model ({literal(st.session_state.get(ui.SESSION_MODEL_NAME, 'uploaded'), 60)})"
    if kind in ("preset", "trained"):
        return f"{kind} {key}"
    return f"random weights, seed {cfg.seed}"


def show_messages() -> None:
    """The messages the callbacks left: shown until the learner's next action, also through the page's own reruns
    (a job's result arriving would otherwise take away the message about the file that started it)."""
    held = st.session_state.get(MESSAGES, [])
    if not ui.own_run():
        held = [m for m in held if not m[2]]  # the learner acted: what was already shown goes
    for kind, text, _ in held:
        getattr(st, kind)(text)
    st.session_state[MESSAGES] = [(kind, text, True) for kind, text, _ in held]
