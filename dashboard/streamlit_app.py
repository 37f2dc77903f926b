"""imugait dashboard: the router and the shared sidebar (data root, subject, session).

Launch from the repository root::

    streamlit run dashboard/streamlit_app.py -- --data /path/to/imugait-data

or set ``IMUGAIT_DATA``; without either, the per-user data folder is used. The dashboard only reads: it never
records (BLE stays in ``imugait record``) and never processes (``imugait process``).
"""

from __future__ import annotations

import os
import sys

import streamlit as st

from dashboard import data
from pipeline.errors import ImuGaitError

st.set_page_config(page_title="imugait", page_icon=":material/directions_walk:", layout="wide")

root = data.resolve_data_root(sys.argv[1:], os.environ)
sessions = data.list_sessions(root.path)
subject = session_id = None

with st.sidebar:
    st.markdown("**imugait** · gait lab")
    st.caption(f"Data root (from {root.origin})")
    st.code(data.display_path(root.path), language=None, wrap_lines=True)
    if not root.path.is_dir():
        st.warning("This folder does not exist. Pass `-- --data <folder>` to `streamlit run`, or set `IMUGAIT_DATA`.")
    subjects = sorted(sessions["subject"].unique())
    if subjects:
        latest = subjects.index(data.default_subject(sessions))
        subject = st.selectbox("Subject", subjects, index=latest, key="subject")
        profile = data.subject_profile(root.path, subject)
        if profile is not None and profile.problem:
            st.warning(f"Subject profile not readable: {profile.problem}")
        elif profile is not None and profile.facts:
            st.caption(" · ".join(f"{label}: **{value}**" for label, value in profile.facts))
        own = sessions[sessions["subject"] == subject]
        names = {row["session_id"]: data.session_choice_label(row) for _, row in own.iterrows()}
        session_id = st.selectbox(
            "Session", list(names), index=len(names) - 1, format_func=names.__getitem__, key=f"session_of_{subject}"
        )

st.session_state["selection"] = data.Selection(root, sessions, subject, session_id)

page = st.navigation(
    [
        st.Page("app_pages/trends.py", title="Trends", icon=":material/trending_down:", default=True),
        st.Page("app_pages/session.py", title="Session", icon=":material/directions_walk:"),
        st.Page("app_pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    ]
)
try:
    page.run()
except ImuGaitError as exc:
    st.error(f"{exc}")
