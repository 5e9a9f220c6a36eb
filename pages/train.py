"""Train: watch a GRU, an LSTM and a vanilla RNN (and minGRU) learn a task on the same batches, then open a
trained model on the step-through and timeline pages and see the gates of a model that learned something.

How training stays responsive: the run (every cell's Trainer) lives in session state and is trained a chunk
at a time (about ``CHUNK_SECONDS``) by a fragment that reruns itself every ``TICK`` seconds while the run is
going (``st.fragment(run_every=...)``); each chunk ends by redrawing the progress bar and the curves. Stop
is a button outside the fragment: a click asks for a full rerun, which Streamlit starts at the fragment's next
Streamlit call — right after the chunk in progress — and whose callback ends the run, keeping every weight
learned so far. No thread trains in the background, so nothing outlives the session or races its state.
"""

from __future__ import annotations

import html
import math

import pandas as pd
import streamlit as st

from gru_viz.app import state, ui
from gru_viz.app import train as tu
from gru_viz.core.tasks import TASKS, get_task
from gru_viz.explain.palette import CELL_COLORS, GREY
from gru_viz.figures import train as figs

st.set_page_config(page_title="Train · gru-viz", page_icon=":material/model_training:", layout="wide")

RUN = "train_run"  # the Run in progress or finished (this session only)
EXAMPLE = "train_example"  # which test example the results show
METRIC = "train_metric"  # the curves shown for a classification: accuracy or loss
SAVED = "train_saved_settings"  # the widgets' values, kept across page switches
KEYS = {name: f"train_{name}" for name in ("task", "seq_len", "hidden", "lr", "batch", "steps", "cells", "seed",
                                           "forget_bias")}
TICK = 0.5  # seconds between the fragment's reruns while training (a chunk is about CHUNK_SECONDS of work)
CHART = {"displayModeBar": False}
EXAMPLE_STEPS = 16  # steps of a test example written out in full
SUGGESTED_T = {"adding": 50}  # the adding problem at its default T = 20 is too easy to tell the cells apart


def suggested_seq_len(task: str) -> int:
    """The sequence length a task starts at when picked."""
    return SUGGESTED_T.get(task, get_task(task).default_steps)


# ------------------------------------------------------------------------------------------- settings


def init_widgets() -> None:
    """Seed the settings' widgets: the session's last values (Streamlit drops a widget's value once a page
    without it runs, so they are kept under SAVED too), else the defaults."""
    d = tu.DEFAULTS
    saved = st.session_state.get(SAVED, {})
    for name, key in KEYS.items():
        if key not in st.session_state:
            st.session_state[key] = saved.get(name, list(d.cells) if name == "cells" else getattr(d, name))


def save_widgets() -> None:
    """Keep the settings' values apart from their widgets, for the next visit to this page."""
    st.session_state[SAVED] = {name: st.session_state.get(key) for name, key in KEYS.items()}


def on_task_change() -> None:
    """A new task starts at its own suggested length."""
    st.session_state[KEYS["seq_len"]] = suggested_seq_len(st.session_state[KEYS["task"]])


def read_settings() -> tuple[tu.Settings | None, list[str]]:
    """The widgets' values, checked (never raises)."""
    values = {name: st.session_state.get(key) for name, key in KEYS.items()}
    return tu.check_settings(**values)


def settings_panel(running: bool) -> tu.Settings | None:
    """Task, length, size, steps, learning rate and cells (batch, seed, LSTM bias in a popover); the problems
    with them; Start and Stop."""
    task_col, t_col, h_col, s_col, lr_col = st.columns([3.1, 1.1, 1.1, 1.1, 1.5])
    task_col.selectbox("Task", tuple(TASKS), format_func=lambda k: TASKS[k].name, key=KEYS["task"],
                       on_change=on_task_change, disabled=running)
    task = get_task(st.session_state[KEYS["task"]])
    low, high = tu.seq_limits(task)
    t_col.number_input("Length T", step=5, key=KEYS["seq_len"], disabled=running,
                       help=f"Steps per sequence, {low} to {high} for this task: the longer, the harder to remember.")
    h_col.number_input("Hidden H", step=4, key=KEYS["hidden"], disabled=running,
                       help=f"Units per cell, 1 to {tu.MAX_HIDDEN}.")
    s_col.number_input("Steps", step=100, key=KEYS["steps"], disabled=running,
                       help=f"Training steps, 1 to {tu.MAX_TRAIN_STEPS}; a run also stops after "
                            f"{tu.RUN_SECONDS:.0f} s of training.")
    lr_col.number_input("Learning rate", step=0.001, format="%g", key=KEYS["lr"], disabled=running,
                        help=f"Adam's step size, above 0 and at most {tu.MAX_LR:g}. 0.01 suits every task here; "
                             "a vanilla RNN may do better with 0.003.")

    cells_col, more_col, start_col, stop_col = st.columns([3.1, 2.2, 1.1, 1.5], vertical_alignment="bottom")
    cells_col.pills("Cells to race", tu.TRAIN_CELLS, selection_mode="multi", format_func=tu.cell_name,
                    key=KEYS["cells"], disabled=running,
                    help="Every cell trains on the same batches, from the same seed, with the same settings.")
    state_ = st.session_state
    with more_col.popover(f"Batch {state_[KEYS['batch']]} · seed {state_[KEYS['seed']]}", icon=":material/tune:",
                          disabled=running, width="stretch", key="train_more"):
        st.number_input("Batch size", step=8, key=KEYS["batch"],
                        help=f"Sequences per training step, 1 to {tu.MAX_BATCH} (and length × batch × hidden at "
                             f"most {tu.MAX_WORK:,}).")
        st.number_input("Seed", step=1, key=KEYS["seed"],
                        help="Seeds the batches, the held-out set and every cell's initial weights.")
        st.toggle("LSTM forget bias +1", key=KEYS["forget_bias"],
                  help="Start the LSTM's forget gate open (bias +1, Jozefowicz et al. 2015): with torch's default "
                       "init it often never learns to hold a value over a long gap.")
    settings, problems = read_settings()
    start_col.button("Start", key="train_start", type="primary", icon=":material/play_arrow:", on_click=start,
                     disabled=running or settings is None, width="stretch")
    stop_col.button("Stop", key="train_stop", icon=":material/stop:", on_click=stop, disabled=not running,
                    width="stretch", help="Stop after the step in progress; everything learned so far is kept.")
    for problem in problems:
        st.error(problem, icon=":material/error:")
    return settings


def start() -> None:
    """Start callback: a fresh run of the checked settings (a bad setting leaves the page's messages up)."""
    settings, _ = read_settings()
    if settings is None:
        return
    st.session_state[RUN] = tu.Run.start(settings)
    st.session_state[EXAMPLE] = 0


def stop() -> None:
    """Stop callback: runs before the rerun it asked for, i.e. between two chunks."""
    run = st.session_state.get(RUN)
    if run is not None:
        run.stop()


def task_card(task_key: str, seq_len: int | None = None) -> None:
    """The task in a few lines: what it asks, its chance level (the dashed line), how long its sequences are."""
    task = get_task(task_key)
    base = task.baseline()
    loss = "MSE" if task.kind == "regression" else "cross-entropy"
    acc = f", accuracy {base.accuracy:.0%}" if base.accuracy is not None else ""
    length = f" T = {seq_len} steps." if seq_len else ""
    st.markdown(f"**{task.name}.** {task.description}{length}")
    st.caption(f"**Chance level**, the dashed line: {base.note} — {loss} {base.loss:.3g}{acc}.")


# ------------------------------------------------------------------------------------------ live view


def progress_text(run: tu.Run) -> str:
    """Status, steps and training time."""
    return (f"{tu.STATUS[run.status]} · step {run.steps_done} of {run.settings.steps} · "
            f"{run.seconds:.1f} s of training")


def step_times(run: tu.Run) -> None:
    """Each cell's compute time per training step, in its colour."""
    parts = [f'<span style="color:{CELL_COLORS.get(c, GREY)};font-weight:700">{html.escape(tu.cell_name(c))}</span> '
             f"{run.ms_per_step(c):.1f} ms" for c in run.trainers]
    st.markdown("<small>Time per step: " + " · ".join(parts) + "</small>", unsafe_allow_html=True)


def curves(run: tu.Run) -> None:
    """Loss (and accuracy) curves of every cell with the chance level; the task and step times beside them."""
    task = run.task
    base = task.baseline(run.settings.seq_len)
    histories = {cell: t.history for cell, t in run.trainers.items()}
    loss_name = "MSE" if task.kind == "regression" else "cross-entropy"
    charts, side = st.columns([3.4, 1])
    with side:
        metric = "loss"
        if task.kind == "classification":  # one chart at a time keeps it wide enough to read on a projector
            metric = st.segmented_control("Curves", ("accuracy", "loss"), key=METRIC, default="accuracy",
                                          label_visibility="collapsed") or "accuracy"
        task_card(run.settings.task, run.settings.seq_len)
        step_times(run)
        s = run.settings
        st.caption(f"H = {s.hidden}, lr {s.lr:g}, batch {s.batch}, seed {s.seed}; held-out set: {run.eval_size} "
                   "sequences.")
    with charts:
        st.plotly_chart(figs.curves_figure(histories, base, metric, run.settings.steps, loss_name), config=CHART,
                        key=f"train_{metric}")
    diverged = [tu.cell_name(c) for c, t in run.trainers.items() if t.diverged]
    if diverged:
        st.warning(f"{', '.join(diverged)} diverged (a loss or gradient was not finite): no update was applied "
                   "then, and its curve ends there. Try a smaller learning rate.", icon=":material/warning:")


def live() -> None:
    """Draw the progress and the curves, then train one chunk (while running)."""
    run: tu.Run | None = st.session_state.get(RUN)
    if run is None:
        hint, side = st.columns([3.4, 1])
        hint.info("Pick a task and the cells to race, then press **Start**. The defaults race a GRU, an LSTM and a "
                  "vanilla RNN on the adding problem: watch which ones get below the dashed chance line.",
                  icon=":material/model_training:")
        with side:
            task_card(st.session_state[KEYS["task"]])
        return
    was_running = run.running
    # Draw first, then train: elements this run has not redrawn yet are shown faded ("stale") by the browser,
    # so drawing after a chunk would fade the curves for most of the time they are on screen.
    st.progress(run.progress, text=progress_text(run))
    note_box = st.empty()
    curves(run)
    if not was_running:
        return
    note = run.advance_shared()
    if note:
        note_box.caption(note)
    if not run.running:  # finished in this chunk: a full rerun turns the timer off and shows the results
        st.rerun()


# ------------------------------------------------------------------------------------------- results


def scores_table(run: tu.Run) -> pd.DataFrame:
    """Every cell's final numbers, one row each."""
    rows = []
    for s in run.scores():
        row = {"Cell": tu.cell_name(s.cell), "Steps": s.steps, "Held-out loss": s.loss}
        if s.accuracy is not None:
            row["Accuracy"] = f"{s.accuracy:.1%}"
        row["Chance loss"] = s.chance_loss
        row["Loss removed"] = f"{max(s.below_chance, 0.0):.0%}" if math.isfinite(s.loss) else "diverged"
        row["ms / step"] = round(s.ms_per_step, 2)  # the mean over the whole run
        rows.append(row)
    return pd.DataFrame(rows)


def results(run: tu.Run) -> None:
    """Final scores side by side, a test example, and the buttons that open each trained model."""
    st.subheader("Results")
    scores = run.scores()
    why = {"done": "", "stopped": " (stopped early)", "time-cap": f" (stopped at the {tu.RUN_SECONDS:.0f} s cap)",
           "diverged": " (every cell diverged)"}[run.status]
    st.caption(f"Held-out scores on {run.eval_size} fresh sequences after {run.steps_done} steps{why}. "
               "“Loss removed” is 1 − loss / chance: 0% learned nothing, 100% is perfect.")
    table_col, bars_col = st.columns([3, 2])
    table_col.dataframe(scores_table(run), hide_index=True,
                        column_config={"Held-out loss": st.column_config.NumberColumn(format="%.4g"),
                                       "Chance loss": st.column_config.NumberColumn(format="%.3g")})
    cells = [s.cell for s in scores]
    if run.task.kind == "classification":
        fig = figs.scores_figure(cells, [s.accuracy for s in scores], scores[0].chance_accuracy, "held-out accuracy",
                                 percent=True)
    else:
        fig = figs.scores_figure(cells, [s.loss for s in scores], scores[0].chance_loss, "held-out MSE")
    bars_col.plotly_chart(fig, config=CHART, key="train_scores")
    open_models(run)


def open_models(run: tu.Run) -> None:
    """A test example with every cell's answer, and one click to open a trained cell on it."""
    number = st.session_state.setdefault(EXAMPLE, 0)
    example = tu.example_for(run, number)
    st.markdown("**Open a trained model** on a fresh test example: its hidden state and gates, step by step.")
    shown = example.labels[:EXAMPLE_STEPS]
    more = f" … ({len(example.labels)} steps)" if len(example.labels) > len(shown) else ""
    head, again = st.columns([6, 1], vertical_alignment="center")
    head.markdown(f"Example {number + 1}: `{' '.join(shown)}{more}` — {tu.example_summary(run.task, example)} → "
                  f"answer **{example.answer}**")
    again.button("Another", key="train_another", icon=":material/casino:", width="stretch",
                 on_click=lambda: st.session_state.update({EXAMPLE: number + 1}))
    cols = st.columns(len(run.trainers))
    for col, cell in zip(cols, run.trainers, strict=True):
        with col.container(border=True):
            st.markdown(f"**{tu.cell_name(cell)}** says {tu.answer_of(run, cell, example)}")
            if st.button("Step through", key=f"train_open_step_{cell}", icon=":material/step:", width="stretch",
                         help=f"Open this trained {tu.cell_name(cell)} on the example, one step at a time."):
                open_on(run, cell, example, "pages/step.py")
            if st.button("Timeline", key=f"train_open_timeline_{cell}", icon=":material/timeline:", width="stretch",
                         help=f"Every gate of this trained {tu.cell_name(cell)} over the example, unit by unit."):
                open_on(run, cell, example, "pages/timeline.py")


def open_on(run: tu.Run, cell: str, example, page: str) -> None:
    """Make the trained cell this session's model, show it on ``example``, and switch to ``page``."""
    model, name, cfg = tu.handoff(run, cell, example, ui.config())
    st.session_state[ui.SESSION_MODEL] = model
    st.session_state[ui.SESSION_MODEL_NAME] = name
    ui.apply(cfg)  # also resets the sidebar widgets, so they show this model's cell and size
    st.switch_page(page, query_params=state.to_query(cfg))


# ---------------------------------------------------------------------------------------------- page

ui.setup_page("Train")  # also writes the session's link back to the address bar
init_widgets()
current: tu.Run | None = st.session_state.get(RUN)
running = current is not None and current.running
st.caption("Race recurrent cells on the same batches, then open a trained one and see what its gates learned.")
with ui.friendly("The training settings"):
    settings_panel(running)
    save_widgets()
    picked = st.session_state[KEYS["task"]]
    if current is not None and not running and picked != current.settings.task:  # the next run's task
        task_card(picked)

st.fragment(run_every=TICK if running else None)(live)()

if current is not None and not current.running:
    with ui.friendly("The results"):
        results(current)
