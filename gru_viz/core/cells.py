"""The cells' equations, one layer and one direction at a time: forward with full trace, and backward (BPTT).

Shapes: x (T, B, I), h (B, H). Weights as torch keeps them, (out, in), so a linear step is ``x @ W.T``.
Everything that does not depend on the recurrence (the input projections, the parameter gradients, the
gates' derivative factors) is done for all steps at once; only the recurrence itself loops over time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .variants import GRUVariant


def sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e^−x), written with tanh so that |x| up to 1e300 never overflows."""
    return 0.5 + 0.5 * np.tanh(0.5 * x)


def _sigmoid_(x: np.ndarray) -> np.ndarray:
    """σ in place (saves three allocations a step in the hot loop)."""
    x *= 0.5
    np.tanh(x, out=x)
    x *= 0.5
    x += 0.5
    return x


@dataclass
class LayerParams:
    """One layer and direction's parameters (biases are zeros when the model has none)."""

    w_ih: np.ndarray  # (G·H, I)
    w_hh: np.ndarray | None  # (G·H, H_out); None for minGRU
    b_ih: np.ndarray  # (G·H,)
    b_hh: np.ndarray | None  # (G·H,)
    w_hr: np.ndarray | None = None  # LSTM projection (P, H)


@dataclass
class Clamp:
    """A gate's clamps over a layer's steps: where (T,) and to what (T, H)."""

    mask: np.ndarray  # (T,) bool
    value: np.ndarray  # (T, H)


@dataclass
class LayerGrads:
    """What a layer's backward pass returns."""

    dx: np.ndarray  # (T, B, I)
    dh0: np.ndarray  # (B, H_out)
    dh: np.ndarray  # (T, B, H_out): the total ∂L/∂h_t at every step
    params: dict[str, np.ndarray]  # "w_ih", "w_hh", "b_ih", "b_hh" (and "w_hr")
    dc0: np.ndarray | None = None  # LSTM


def _mm(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """a @ w for a (T, B, k) stack as one 2-D product: NumPy's stacked matmul can miss BLAS (10× slower)."""
    return (a.reshape(-1, a.shape[-1]) @ w).reshape(*a.shape[:-1], w.shape[-1])


def _projected(x: np.ndarray, p: LayerParams, both_biases: bool = False) -> np.ndarray:
    """W_ih x + b_ih (+ b_hh) for every step at once, the biases added in place (in that order, as before)."""
    out = _mm(x, p.w_ih.T)
    out += p.b_ih
    if both_biases:
        out += p.b_hh
    return out


def _steps(T: int, direction: int) -> range:
    return range(T) if direction == 0 else range(T - 1, -1, -1)


def _apply_clamps(gate: np.ndarray, t: int, clamp: Clamp | None) -> None:
    if clamp is not None and clamp.mask[t]:
        gate[...] = clamp.value[t]


def _clamp_factor(clamp: Clamp | None, T: int) -> np.ndarray | float:
    """1 where the gate is free, 0 where clamped (a clamped gate passes no gradient to its pre-activation)."""
    if clamp is None:
        return 1.0
    return (~clamp.mask).astype(float)[:, None, None]


def h_prev_of(h: np.ndarray, h0: np.ndarray, direction: int) -> np.ndarray:
    """The state each step started from, (T, B, H), for a run in ``direction``."""
    if direction == 0:
        return np.concatenate([h0[None], h[:-1]], axis=0)
    return np.concatenate([h[1:], h0[None]], axis=0)


def _param_grads(
    dgi: np.ndarray, x: np.ndarray, dgh: np.ndarray | None, h_prev: np.ndarray | None
) -> dict[str, np.ndarray]:
    """∂L/∂W and ∂L/∂b summed over all steps and the batch in single matrix products."""
    T, B, _ = x.shape
    grads = {
        "w_ih": dgi.reshape(T * B, -1).T @ x.reshape(T * B, -1),
        "b_ih": dgi.sum(axis=(0, 1)),
    }
    if dgh is not None:
        grads["w_hh"] = dgh.reshape(T * B, -1).T @ h_prev.reshape(T * B, -1)
        grads["b_hh"] = dgh.sum(axis=(0, 1))
    return grads


# ----------------------------------------------------------------------------------------------------- GRU


@dataclass(frozen=True)
class GRUPrepared:
    """What a GRU layer's forward reads besides its parameters, made once per model (see :func:`gru_prepare`)."""

    w_T: np.ndarray  # (H, rows): W_hh's rows, r and z times ½, transposed and contiguous (the n rows: reset after)
    w_hn_T: np.ndarray | None  # (H, H): W_hn transposed and contiguous (reset before, where it multiplies r ⊙ h)


def _read_only(*arrays: np.ndarray | None) -> None:
    """Mark prepared arrays read-only: a model shares them between runs (and threads), and no run may write them."""
    for a in arrays:
        if a is not None:
            a.flags.writeable = False


def gru_prepare(p: LayerParams, variant: GRUVariant) -> GRUPrepared:
    """The GRU forward's weight copies: σ(v) = ½ + ½·tanh(½·v), so the ½ is folded into the r, z rows."""
    H = p.w_hh.shape[1]
    half = np.concatenate([np.full(2 * H, 0.5), np.ones(H)])
    # reset before: only the r, z rows go into the step's one product; W_hn (r ⊙ h) waits for r
    rows = 3 * H if variant.reset_after else 2 * H
    w_T = np.ascontiguousarray((p.w_hh[:rows] * half[:rows, None]).T)
    w_hn_T = None if variant.reset_after else np.ascontiguousarray(p.w_hh[2 * H :].T)
    _read_only(w_T, w_hn_T)
    return GRUPrepared(w_T, w_hn_T)


def gru_forward(
    x: np.ndarray,
    h0: np.ndarray,
    p: LayerParams,
    variant: GRUVariant,
    direction: int = 0,
    clamps: dict[str, Clamp] | None = None,
    prep: GRUPrepared | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """GRU over a sequence: returns h (T, B, H), gates {r, z, n} and pre-activations {r, z, n, hn}.

    r = σ(W_ir x + b_ir + W_hr h + b_hr)      z = σ(W_iz x + b_iz + W_hz h + b_hz)
    reset after:  n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
    reset before: n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)
    z keeps: h' = (1 − z) ⊙ n + z ⊙ h        z takes: h' = (1 − z) ⊙ h + z ⊙ n

    ``prep`` is :func:`gru_prepare`'s result for ``p`` and ``variant`` (a model keeps it); made here if None.
    """
    clamps = clamps or {}
    r_clamp, z_clamp = clamps.get("r"), clamps.get("z")
    prep = prep or gru_prepare(p, variant)
    T, B, _ = x.shape
    H = h0.shape[-1]
    after, keeps = variant.reset_after, variant.z_keeps
    rows = 3 * H if after else 2 * H
    gi = _projected(x, p)  # the input path of all three gates, for all steps at once
    pre_n = np.empty((T, B, H))
    pre_n[...] = gi[..., 2 * H :]  # n's pre-activation starts as its input part; each step adds the rest
    # known[t] = [½ pre_r, ½ pre_z, b_hn] less the product with h: what each step adds to its one matrix product
    # (reset before: only the r, z part; W_hn (r ⊙ h) + b_hn goes to hn[t] once r is known). Made in gi's place.
    known = gi[..., :rows]
    known[..., : 2 * H] += p.b_hh[: 2 * H]
    known[..., : 2 * H] *= 0.5
    b_hn = p.b_hh[2 * H :]
    if after:
        known[..., 2 * H :] = b_hn
    acc = np.empty((T, B, rows))  # [½ pre_r, ½ pre_z (, W_hn h + b_hn)]: the pre-activations once doubled below
    rz = np.empty((T, B, 2 * H))
    hn = acc[..., 2 * H :] if after else np.empty((T, B, H))
    n = np.empty((T, B, H))
    h = np.empty((T, B, H))
    w_T, w_hn_T = prep.w_T, prep.w_hn_T
    tmp = np.empty((B, H))
    # Iterating over the arrays yields each step's views in C: cheaper than indexing or slicing them step by step.
    step = slice(None, None, 1 if direction == 0 else -1)
    views = (acc, acc[..., : 2 * H], known, rz, rz[..., :H], rz[..., H:], hn, pre_n, n, h)
    rows_of = zip(_steps(T, direction), *(v[step] for v in views), strict=True)
    h_t = h0
    for t, a, a_rz, k, g, r, z, hn_t, pn, n_t, out in rows_of:
        np.dot(h_t, w_T, a)
        a += k
        np.tanh(a_rz, g)
        g *= 0.5
        g += 0.5
        if r_clamp is not None:
            _apply_clamps(r, t, r_clamp)
        if z_clamp is not None:
            _apply_clamps(z, t, z_clamp)
        if after:
            np.multiply(r, hn_t, tmp)  # r ⊙ (W_hn h + b_hn)
            pn += tmp
        else:
            np.multiply(r, h_t, tmp)
            np.matmul(tmp, w_hn_T, out=hn_t)  # W_hn (r ⊙ h) + b_hn
            hn_t += b_hn
            pn += hn_t
        np.tanh(pn, n_t)
        # z keeps: h' = n + z ⊙ (h − n);  z takes: h' = h + z ⊙ (n − h)
        if keeps:
            np.subtract(h_t, n_t, out)
            out *= z
            out += n_t
        else:
            np.subtract(n_t, h_t, out)
            out *= z
            out += h_t
        if z_clamp is not None and z_clamp.mask[t]:
            # a clamped z of exactly 0 or 1 must keep (or take) the state bit for bit, which n + z(h − n) can't
            keep_t = z if keeps else 1.0 - z
            out[...] = keep_t * h_t + (1.0 - keep_t) * n_t
        h_t = out
    acc[..., : 2 * H] *= 2.0  # ½ pre → pre, in place (exact): the trace keeps no second copy
    gates = {"r": rz[..., :H], "z": rz[..., H:], "n": n}
    pre = {"r": acc[..., :H], "z": acc[..., H : 2 * H], "n": pre_n, "hn": hn}
    return h, gates, pre


def gru_backward(
    x: np.ndarray,
    h0: np.ndarray,
    h: np.ndarray,
    gates: dict[str, np.ndarray],
    pre: dict[str, np.ndarray],
    p: LayerParams,
    variant: GRUVariant,
    dh_out: np.ndarray,
    direction: int = 0,
    clamps: dict[str, Clamp] | None = None,
    param_grads: bool = True,
) -> LayerGrads:
    """BPTT through a GRU layer, given ∂L/∂h_t from above at every step (dh_out, (T, B', H))."""
    clamps = clamps or {}
    T = x.shape[0]
    H = h0.shape[-1]
    r, z, n, hn = gates["r"], gates["z"], gates["n"], pre["hn"]
    h_prev = h_prev_of(h, h0, direction)
    # keep = the coefficient of h in h', so h' = keep ⊙ h + (1 − keep) ⊙ n, and ∂keep/∂pre_z = ±z(1 − z).
    keep = z if variant.z_keeps else 1.0 - z
    sign = 1.0 if variant.z_keeps else -1.0
    dr_gate = r * (1.0 - r) * _clamp_factor(clamps.get("r"), T)
    c_n = (1.0 - keep) * (1.0 - n * n)  # ∂h'/∂pre_n
    B = r.shape[1]
    # coef[t] · ∂L/∂h' gives ∂L/∂[pre_r, pre_z, hn] (reset after) or ∂L/∂[·, pre_z, ·] (reset before)
    coef = np.empty((T, B, 3, H))
    np.multiply(h_prev - n, sign * z * (1.0 - z) * _clamp_factor(clamps.get("z"), T), out=coef[:, :, 1])
    Bp = dh_out.shape[1]
    dh_all = np.empty((T, Bp, H))
    dgh = np.empty((T, Bp, 3, H))  # ∂L/∂(W_h· h + b_h·) for the r, z, n blocks
    dpre_n = np.empty((T, Bp, H))
    dh = np.zeros((Bp, H))
    w_hh = p.w_hh
    if variant.reset_after:
        np.multiply(c_n, r, out=coef[:, :, 2])  # ∂h'/∂(W_hn h + b_hn), which r scales
        np.multiply(coef[:, :, 2], hn, out=coef[:, :, 0])
        coef[:, :, 0] *= (1.0 - r) * _clamp_factor(clamps.get("r"), T)  # ∂h'/∂pre_r = c_n ⊙ hn ⊙ r(1 − r)
        for t in reversed(_steps(T, direction)):
            dh += dh_out[t]
            dh_all[t] = dh
            np.multiply(coef[t], dh[:, None, :], out=dgh[t])
            dh = dh * keep[t] + dgh[t].reshape(Bp, 3 * H) @ w_hh
        np.multiply(dh_all, c_n, out=dpre_n)
    else:
        w_rz = w_hh[: 2 * H]
        w_hn = w_hh[2 * H :]
        for t in reversed(_steps(T, direction)):
            dh += dh_out[t]
            dh_all[t] = dh
            np.multiply(dh, c_n[t], out=dpre_n[t])
            drh = dpre_n[t] @ w_hn  # ∂L/∂(r ⊙ h)
            np.multiply(drh, h_prev[t] * dr_gate[t], out=dgh[t, :, 0])
            np.multiply(dh, coef[t, :, 1], out=dgh[t, :, 1])
            dgh[t, :, 2] = dpre_n[t]
            dh = dh * keep[t] + drh * r[t] + dgh[t, :, :2].reshape(Bp, 2 * H) @ w_rz
    # ∂L/∂pre = [dgh_r, dgh_z, dpre_n]: the r, z blocks are shared by the input and recurrent paths.
    TB = T * Bp
    d_rz = dgh[:, :, :2].reshape(TB, 2 * H)
    d_n = dpre_n.reshape(TB, H)
    dx = (d_rz @ p.w_ih[: 2 * H] + d_n @ p.w_ih[2 * H :]).reshape(T, Bp, -1)
    grads: dict[str, np.ndarray] = {}
    if param_grads:
        xs = x.reshape(TB, -1)
        grads["w_ih"] = np.concatenate([d_rz.T @ xs, d_n.T @ xs])
        grads["b_ih"] = np.concatenate([d_rz.sum(axis=0), d_n.sum(axis=0)])
        flat = dgh.reshape(TB, 3 * H)
        hp = h_prev.reshape(TB, H)
        if variant.reset_after:
            grads["w_hh"] = flat.T @ hp
        else:  # the n block multiplies r ⊙ h, not h
            grads["w_hh"] = np.concatenate([flat[:, : 2 * H].T @ hp, flat[:, 2 * H :].T @ (r * h_prev).reshape(TB, H)])
        grads["b_hh"] = flat.sum(axis=0)
    return LayerGrads(dx=dx, dh0=dh, dh=dh_all, params=grads)


# ---------------------------------------------------------------------------------------------------- LSTM


@dataclass(frozen=True)
class MatricesT:
    """A layer's recurrent matrices transposed and contiguous, as its forward's per-step products read them."""

    w_hh_T: np.ndarray  # (H_out, G·H)
    w_hr_T: np.ndarray | None = None  # (H, P): a projected LSTM's W_hr


def transposed(p: LayerParams) -> MatricesT:
    """An LSTM's or a vanilla RNN's prepared weights: W_hh (and W_hr) transposed and contiguous, made once."""
    prep = MatricesT(np.ascontiguousarray(p.w_hh.T), None if p.w_hr is None else np.ascontiguousarray(p.w_hr.T))
    _read_only(prep.w_hh_T, prep.w_hr_T)
    return prep


def lstm_forward(
    x: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray,
    p: LayerParams,
    direction: int = 0,
    clamps: dict[str, Clamp] | None = None,
    prep: MatricesT | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """LSTM over a sequence: returns h (T, B, H_out), gates {i, f, g, o, c (and m)} and pre-activations.

    i, f, o = σ(W_i· x + b_i· + W_h· h + b_h·)   g = tanh(W_ig x + b_ig + W_hg h + b_hg)
    c' = f ⊙ c + i ⊙ g    h' = o ⊙ tanh(c')   (projected: m = o ⊙ tanh(c'), h' = W_hr m)
    """
    clamps = clamps or {}
    T, B, _ = x.shape
    H = c0.shape[-1]
    H_out = h0.shape[-1]
    pre = _projected(x, p, both_biases=True)  # (T, B, 4H); becomes the pre-activations in place
    act = np.empty((T, B, 4 * H))
    c = np.empty((T, B, H))
    m = np.empty((T, B, H))
    h = np.empty((T, B, H_out)) if p.w_hr is not None else m
    prep = prep or transposed(p)
    w_hh_T, w_hr_T = prep.w_hh_T, prep.w_hr_T
    h_t, c_t = h0, c0
    for t in _steps(T, direction):
        pre[t] += h_t @ w_hh_T
        a = act[t]
        a[...] = pre[t]
        _sigmoid_(a[:, : 2 * H])
        _sigmoid_(a[:, 3 * H :])
        np.tanh(a[:, 2 * H : 3 * H], out=a[:, 2 * H : 3 * H])
        i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        _apply_clamps(i, t, clamps.get("i"))
        _apply_clamps(f, t, clamps.get("f"))
        _apply_clamps(o, t, clamps.get("o"))
        np.multiply(f, c_t, out=c[t])
        c[t] += i * g
        np.tanh(c[t], out=m[t])
        m[t] *= o
        if w_hr_T is not None:
            np.matmul(m[t], w_hr_T, out=h[t])
        h_t, c_t = h[t], c[t]
    gates = {"i": act[..., :H], "f": act[..., H : 2 * H], "g": act[..., 2 * H : 3 * H], "o": act[..., 3 * H :]}
    gates["c"] = c
    if p.w_hr is not None:
        gates["m"] = m
    pres = {k: pre[..., j * H : (j + 1) * H] for j, k in enumerate("ifgo")}
    return h, gates, pres


def lstm_backward(
    x: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray,
    h: np.ndarray,
    gates: dict[str, np.ndarray],
    p: LayerParams,
    dh_out: np.ndarray,
    dc_last: np.ndarray | None = None,
    direction: int = 0,
    clamps: dict[str, Clamp] | None = None,
    param_grads: bool = True,
) -> LayerGrads:
    """BPTT through an LSTM layer; ``dc_last`` is ∂L/∂c at the last step of travel (for c_n)."""
    clamps = clamps or {}
    T = x.shape[0]
    i, f, g, o, c = (gates[k] for k in "ifgoc")
    H = c.shape[-1]
    c_prev = h_prev_of(c, c0, direction)
    h_prev = h_prev_of(h, h0, direction)
    tanh_c = np.tanh(c)
    d_i = i * (1.0 - i) * _clamp_factor(clamps.get("i"), T)
    d_f = f * (1.0 - f) * _clamp_factor(clamps.get("f"), T)
    d_o = o * (1.0 - o) * _clamp_factor(clamps.get("o"), T)
    # ∂pre/∂c for i, f, g (times dc) and ∂pre_o/∂m (times dm)
    coef_c = np.concatenate([g * d_i, c_prev * d_f, i * (1.0 - g * g)], axis=-1)
    coef_o = tanh_c * d_o
    m_to_c = o * (1.0 - tanh_c * tanh_c)
    Bp = dh_out.shape[1]
    dh_all = np.empty((T, Bp, h.shape[-1]))
    dgates = np.empty((T, Bp, 4 * H))
    dh = np.zeros((Bp, h.shape[-1]))
    dc = np.zeros((Bp, H)) if dc_last is None else dc_last.copy()
    for t in reversed(_steps(T, direction)):
        dh += dh_out[t]
        dh_all[t] = dh
        dm = dh if p.w_hr is None else dh @ p.w_hr
        dc = dc + dm * m_to_c[t]
        np.multiply(coef_c[t], np.tile(dc, 3), out=dgates[t, :, : 3 * H])
        np.multiply(dm, coef_o[t], out=dgates[t, :, 3 * H :])
        dh = dgates[t] @ p.w_hh
        dc = dc * f[t]
    grads: dict[str, np.ndarray] = {}
    if param_grads:
        grads = _param_grads(dgates, x, dgates, h_prev)
        if p.w_hr is not None:
            T_, B_, _ = x.shape
            grads["w_hr"] = dh_all.reshape(T_ * B_, -1).T @ gates["m"].reshape(T_ * B_, H)
    return LayerGrads(dx=_mm(dgates, p.w_ih), dh0=dh, dh=dh_all, params=grads, dc0=dc)


# ----------------------------------------------------------------------------------------------------- RNN


def rnn_forward(
    x: np.ndarray,
    h0: np.ndarray,
    p: LayerParams,
    nonlinearity: str = "tanh",
    direction: int = 0,
    prep: MatricesT | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Vanilla RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu). Returns h, {} and {h: pre-activation}."""
    T, B, _ = x.shape
    pre = _projected(x, p, both_biases=True)
    h = np.empty((T, B, h0.shape[-1]))
    w_hh_T = (prep or transposed(p)).w_hh_T
    h_t = h0
    for t in _steps(T, direction):
        pre[t] += h_t @ w_hh_T
        if nonlinearity == "tanh":
            np.tanh(pre[t], out=h[t])
        else:
            np.maximum(pre[t], 0.0, out=h[t])
        h_t = h[t]
    return h, {}, {"h": pre}


def rnn_backward(
    x: np.ndarray,
    h0: np.ndarray,
    h: np.ndarray,
    pre: dict[str, np.ndarray],
    p: LayerParams,
    nonlinearity: str,
    dh_out: np.ndarray,
    direction: int = 0,
    param_grads: bool = True,
) -> LayerGrads:
    """BPTT through a vanilla RNN layer."""
    T = x.shape[0]
    act_grad = 1.0 - h * h if nonlinearity == "tanh" else (pre["h"] > 0).astype(float)
    Bp = dh_out.shape[1]
    dh_all = np.empty((T, Bp, h.shape[-1]))
    dpre = np.empty((T, Bp, h.shape[-1]))
    dh = np.zeros((Bp, h.shape[-1]))
    for t in reversed(_steps(T, direction)):
        dh += dh_out[t]
        dh_all[t] = dh
        np.multiply(dh, act_grad[t], out=dpre[t])
        dh = dpre[t] @ p.w_hh
    grads = _param_grads(dpre, x, dpre, h_prev_of(h, h0, direction)) if param_grads else {}
    return LayerGrads(dx=_mm(dpre, p.w_ih), dh0=dh, dh=dh_all, params=grads)


# -------------------------------------------------------------------------------------------------- minGRU


def _softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + e^x) without overflow (and without an underflow warning for very negative x)."""
    with np.errstate(under="ignore"):
        return np.logaddexp(0.0, x)


def _g(k: np.ndarray) -> np.ndarray:
    """minGRU's positive candidate: k + 0.5 for k ≥ 0, σ(k) below (continuous, always > 0)."""
    return np.where(k >= 0, k + 0.5, sigmoid(k))


def _log_g(k: np.ndarray) -> np.ndarray:
    return np.where(k >= 0, np.log(np.maximum(k, 0.0) + 0.5), -_softplus(-k))


def mingru_scan(log_a: np.ndarray, log_b: np.ndarray, h0: np.ndarray) -> np.ndarray:
    """h_t = a_t ⊙ h_{t−1} + b_t for all t at once, in log space (Heinsen 2023); b > 0, any sign of h0.

    With a* = cumsum(log a): h_t = e^{a*_t} h0 + e^{a*_t + logcumsumexp(log b − a*)_t}.
    """
    with np.errstate(under="ignore"):  # e^{−700} and below is 0 here, as intended
        a_star = np.cumsum(log_a, axis=0)
        log_sum = np.logaddexp.accumulate(log_b - a_star, axis=0)
        return np.exp(a_star) * h0 + np.exp(a_star + log_sum)


def mingru_forward(
    x: np.ndarray,
    h0: np.ndarray,
    p: LayerParams,
    direction: int = 0,
    clamps: dict[str, Clamp] | None = None,
    scan: bool = True,
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """minGRU: z = σ(W_z x + b_z), n = g(W_n x + b_n), h' = (1 − z) ⊙ h + z ⊙ n (Feng et al. 2024).

    The gates do not look at h, so the whole sequence is one linear scan; ``scan=False`` runs the plain loop
    (also used when z is clamped, where log(1 − z) may be −∞).
    """
    clamps = clamps or {}
    H = h0.shape[-1]
    k = _projected(x, p)
    pre_z, pre_n = k[..., :H], k[..., H:]
    z = sigmoid(pre_z)
    n = _g(pre_n)
    zc = clamps.get("z")
    if zc is not None:
        z[zc.mask] = zc.value[zc.mask][:, None, :]
    if direction:  # run reversed in time, then flip back so everything is in time order
        flip = slice(None, None, -1)
        h, _, _ = mingru_forward(x[flip], h0, p, 0, _flip_clamps(clamps), scan)
        return h[flip], {"z": z, "n": n}, {"z": pre_z, "n": pre_n}
    if scan and zc is None:
        log_a = -_softplus(pre_z)  # log(1 − z)
        log_b = -_softplus(-pre_z) + _log_g(pre_n)  # log(z ⊙ n)
        h = mingru_scan(log_a, log_b, h0)
    else:
        h = np.empty_like(n)
        h_t = h0
        for t in range(x.shape[0]):
            h_t = h[t] = (1.0 - z[t]) * h_t + z[t] * n[t]
    return h, {"z": z, "n": n}, {"z": pre_z, "n": pre_n}


def _flip_clamps(clamps: dict[str, Clamp]) -> dict[str, Clamp]:
    return {k: Clamp(c.mask[::-1], c.value[::-1]) for k, c in clamps.items()}


def _scan_backward(keep: np.ndarray, dh_out: np.ndarray, direction: int) -> tuple[np.ndarray, np.ndarray]:
    """The element-wise recurrence of a cell whose gates read x only: ∂L/∂h_{t−1} = keep_t ⊙ ∂L/∂h_t.

    Returns ∂L/∂h_t at every step (T, B', H) and ∂L/∂h0."""
    T = dh_out.shape[0]
    dh_all = np.empty(dh_out.shape)
    dh = np.zeros(dh_out.shape[1:])
    for t in reversed(_steps(T, direction)):
        dh += dh_out[t]
        dh_all[t] = dh
        dh = dh * keep[t]
    return dh_all, dh


def _dg(k: np.ndarray) -> np.ndarray:
    """g′(k): 1 for k ≥ 0, σ(k)(1 − σ(k)) below (minGRU's and minLSTM's candidate)."""
    return np.where(k >= 0, 1.0, sigmoid(k) * (1.0 - sigmoid(k)))


def mingru_backward(
    x: np.ndarray,
    h0: np.ndarray,
    h: np.ndarray,
    gates: dict[str, np.ndarray],
    pre: dict[str, np.ndarray],
    p: LayerParams,
    dh_out: np.ndarray,
    direction: int = 0,
    clamps: dict[str, Clamp] | None = None,
    param_grads: bool = True,
) -> LayerGrads:
    """BPTT through a minGRU layer: the recurrence ∂L/∂h_{t−1} = (1 − z_t) ⊙ ∂L/∂h_t is element-wise."""
    clamps = clamps or {}
    T = x.shape[0]
    z, n = gates["z"], gates["n"]
    h_prev = h_prev_of(h, h0, direction)
    dh_all, dh = _scan_backward(1.0 - z, dh_out, direction)
    dg = _dg(pre["n"])
    dpre_z = dh_all * (n - h_prev) * z * (1.0 - z) * _clamp_factor(clamps.get("z"), T)
    dpre_n = dh_all * z * dg
    dgi = np.concatenate([dpre_z, dpre_n], axis=-1)
    grads = _param_grads(dgi, x, None, None) if param_grads else {}
    return LayerGrads(dx=_mm(dgi, p.w_ih), dh0=dh, dh=dh_all, params=grads)


# ------------------------------------------------------------------------------------------------- minLSTM


def _log_sigmoid(k: np.ndarray) -> np.ndarray:
    """log σ(k) = −softplus(−k), finite for every finite k."""
    return -_softplus(-k)


def minlstm_forward(
    x: np.ndarray,
    h0: np.ndarray,
    p: LayerParams,
    direction: int = 0,
    clamps: dict[str, Clamp] | None = None,
    scan: bool = True,
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """minLSTM (Feng et al. 2024): f = σ(W_f x + b_f), i = σ(W_i x + b_i), n = g(W_n x + b_n),
    f′ = f / (f + i), i′ = i / (f + i), h' = f′ ⊙ h + i′ ⊙ n.

    f′ and i′ are computed in log space, f′ = σ(−d) and i′ = σ(d) with d = log i − log f, so they stay exact
    where σ underflows to 0 and sum to one. Gates {f, i, n, f', i'}; pre-activations {f, i, n}. As for minGRU,
    the gates read only x: the sequence is one linear scan (``scan=False``: the plain loop, also when a gate
    is clamped).
    """
    clamps = clamps or {}
    H = h0.shape[-1]
    k = _projected(x, p)
    pre_f, pre_i, pre_n = k[..., :H], k[..., H : 2 * H], k[..., 2 * H :]
    f, i, n = sigmoid(pre_f), sigmoid(pre_i), _g(pre_n)
    with np.errstate(divide="ignore"):  # a gate clamped to 0 has log −∞: d = ±∞ gives f′, i′ of exactly 0 or 1
        log_f, log_i = _log_sigmoid(pre_f), _log_sigmoid(pre_i)
        for name, gate, log in (("f", f, log_f), ("i", i, log_i)):
            c = clamps.get(name)
            if c is not None:
                gate[c.mask] = c.value[c.mask][:, None, :]
                log[c.mask] = np.log(gate[c.mask])
    d = log_i - log_f
    with np.errstate(under="ignore"):  # both gates ≈ 1: d is subnormal, and ½·d underflows to the exact ½ ± 0
        f_n, i_n = sigmoid(-d), sigmoid(d)
    gates = {"f": f, "i": i, "n": n, "f'": f_n, "i'": i_n}
    pre = {"f": pre_f, "i": pre_i, "n": pre_n}
    # run a reverse layer reversed in time, then flip back so everything is in time order
    t = slice(None, None, -1 if direction else 1)
    h = _minlstm_recurrence(f_n[t], i_n[t], n[t], h0, scan and not clamps, d[t], pre_n[t])
    return h[t], gates, pre


def _minlstm_recurrence(
    keep: np.ndarray, write: np.ndarray, n: np.ndarray, h0: np.ndarray, scan: bool, d: np.ndarray, pre_n: np.ndarray
) -> np.ndarray:
    """h_t = f′_t ⊙ h_{t−1} + i′_t ⊙ n_t in time order: the log-space scan, or the plain loop."""
    if scan:
        log_keep = -_softplus(d)  # log f′
        log_write = -_softplus(-d) + _log_g(pre_n)  # log(i′ ⊙ n)
        return mingru_scan(log_keep, log_write, h0)
    h = np.empty_like(n)
    h_t = h0
    for t in range(n.shape[0]):
        h_t = h[t] = keep[t] * h_t + write[t] * n[t]
    return h


def minlstm_backward(
    x: np.ndarray,
    h0: np.ndarray,
    h: np.ndarray,
    gates: dict[str, np.ndarray],
    pre: dict[str, np.ndarray],
    p: LayerParams,
    dh_out: np.ndarray,
    direction: int = 0,
    clamps: dict[str, Clamp] | None = None,
    param_grads: bool = True,
) -> LayerGrads:
    """BPTT through a minLSTM layer: ∂L/∂h_{t−1} = f′_t ⊙ ∂L/∂h_t, element-wise.

    With d = log i − log f: ∂h'/∂d = f′ i′ (n − h), ∂d/∂pre_i = 1 − i, ∂d/∂pre_f = −(1 − f), ∂h'/∂n = i′.
    """
    clamps = clamps or {}
    T = x.shape[0]
    f, i, n, f_n, i_n = (gates[k] for k in ("f", "i", "n", "f'", "i'"))
    h_prev = h_prev_of(h, h0, direction)
    dh_all, dh = _scan_backward(f_n, dh_out, direction)
    dg = _dg(pre["n"])
    dd = dh_all * f_n * i_n * (n - h_prev)  # ∂L/∂d
    dpre_f = -dd * (1.0 - f) * _clamp_factor(clamps.get("f"), T)
    dpre_i = dd * (1.0 - i) * _clamp_factor(clamps.get("i"), T)
    dpre_n = dh_all * i_n * dg
    dgi = np.concatenate([dpre_f, dpre_i, dpre_n], axis=-1)
    grads = _param_grads(dgi, x, None, None) if param_grads else {}
    return LayerGrads(dx=_mm(dgi, p.w_ih), dh0=dh, dh=dh_all, params=grads)
