"""gru-viz: the home page and entry point. Run with `streamlit run app.py`.

Pages live in pages/ and are found by Streamlit's folder discovery. We do not call st.navigation: with a
pages/ folder present, a freshly started Streamlit 1.67 server routes its first cold deep link (a student
opening /timeline?cell=lstm before anyone opened the home page) by folder discovery anyway, and only
switches to st.navigation once some session has run app.py — so the two mechanisms would disagree.
Folder discovery alone behaves the same on every request; gru_viz.app.ui.nav draws the named, iconed menu.
"""

import streamlit as st

from gru_viz.app import home, ui

st.set_page_config(page_title="gru-viz", page_icon=ui.PAGE_ICON, layout="wide")
cfg = ui.setup_page("gru-viz")
ui.commit(cfg)

home.learn_call()
home.gru_summary()

home.demo_cards()

st.subheader("Learned gates: open a trained model")
st.write("Random weights show how a cell computes; trained weights show what it learned to keep and forget. These "
         "small models were trained on the tasks of the Train page and ship with gru-viz. Each link opens one on a "
         "test example of its task.")
home.trained_cards()
st.page_link("pages/train.py", label="Or train a GRU, an LSTM and an RNN yourself, and watch them learn",
             icon=":material/model_training:")

home.real_text_card()

st.caption("Or open any page from the menu: every setting lives in the address bar, so a link shares it.")
