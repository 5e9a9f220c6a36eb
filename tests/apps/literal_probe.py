"""A probe for tests/test_escaping.py: every text of $GRU_VIZ_PROBE_CASES (a JSON list) through
gru_viz.explain.literal into each kind of markdown element the app puts untrusted text in."""

import json
import os
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root: gru_viz

from gru_viz.explain.literal import literal

KINDS = ("markdown", "info", "error", "caption", "table")

for i, text in enumerate(json.loads(Path(os.environ["GRU_VIZ_PROBE_CASES"]).read_text())):
    kind = KINDS[i % len(KINDS)]
    body = "Seen: " + literal(text, None)
    with st.container(key=f"probe_{i}"):
        if kind == "markdown":
            st.markdown(body)
        elif kind == "table":
            st.table({"": [body]}, hide_index=True, hide_header=True)
        else:
            getattr(st, kind)(body, **({"icon": ""} if kind in ("info", "error") else {}))
st.write("probe done")
