"""gru-viz: entry point and router. Run with `streamlit run app.py`.

Pages are listed explicitly with st.navigation. They live in app_pages/, deliberately NOT in pages/:
with streamlit 1.67, a `pages/` folder next to app.py puts a freshly started server into the legacy
auto-discovery mode until some session has run app.py. A cold deep link such as
/timeline?cell=lstm&t=3 then runs pages/timeline.py directly, skipping this router (its sidebar shows
raw file names), or shows a "Page not found" modal. tests/test_browser_smoke.py guards this.

To add a page: create app_pages/<name>.py and append an st.Page below (give it a url_path).
"""

import streamlit as st

PAGES = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/step.py", title="Step through", icon=":material/step:", url_path="step"),
    st.Page("app_pages/timeline.py", title="Timeline", icon=":material/timeline:", url_path="timeline"),
]

st.navigation(PAGES).run()
