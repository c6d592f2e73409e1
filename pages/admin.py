"""Admin: accounts and roles; per project the guidelines, error types, label mode, overlap, blind mode,
queue, members and quality-control traces with each annotator's accuracy on them."""

from __future__ import annotations

import html

import pandas as pd
import plotly.express as px
import streamlit as st

from annotation.accounts.users import ROLES, create_user, list_users, members_of, set_members, update_user
from annotation.core.model import InvalidValue
from annotation.projects.overview import project_names
from annotation.projects.settings import (
    ProjectSettings,
    load_settings,
    parse_positions,
    quality_control,
    save_settings,
    set_quality_control,
)
from annotation.workflow.labelling import LABEL_MODES, TAXONOMY_PRESETS
from annotation.workflow.queue import QUEUE_ORDERS, priorities_from_model_disagreement
from annotation.workflow.workbench import project_rules
from pages.auth import require_admin
from pages.common import get_engine, md_escape, shown_markdown

MODE_TITLES = {
    "first_error": "First error: steps after the first wrong one need no rating (PRM800K phase 2)",
    "every_step": "Every step: each step gets its own verdict",
}
ORDER_TITLES = {
    "import": "Import order",
    "random": "Random",
    "priority": "Priority (where model critics disagree first)",
}


def users_section() -> None:
    engine = get_engine()
    users = list_users(engine)
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "username": u.username,
                    "name": u.display_name,
                    "role": u.role,
                    "active": u.active,
                    "projects": ", ".join(u.projects),
                    "last sign-in": u.last_login_at or "",
                }
                for u in users
            ]
        ),
        hide_index=True,
        key="admin_users_table",
    )
    add, change = st.columns(2)
    with add, st.form("admin_add_user", clear_on_submit=True):
        st.markdown("**Add an account**")
        username = st.text_input("Username", key="admin_new_username")
        name = st.text_input("Display name", key="admin_new_name")
        role = st.selectbox("Role", ROLES, index=1, key="admin_new_role")
        password = st.text_input("Password (8 characters or more)", type="password", key="admin_new_password")
        if st.form_submit_button("Add account"):
            try:
                create_user(engine, username=username, password=password, role=role, display_name=name)
                st.session_state["admin_flash"] = f"Added {username.strip()} ({role})."
                st.rerun()
            except InvalidValue as e:
                st.error(f"{e.field}: {md_escape(e.message)}")
    with change:
        st.markdown("**Change an account**")
        # The picker sits outside the form, so the fields below always show the chosen account.
        chosen = st.selectbox("Account", [u.username for u in users], key="admin_change_username")
        current = next((u for u in users if u.username == chosen), None)
        if current is None:
            return
        with st.form(f"admin_change_user_{chosen}"):
            role = st.selectbox("Role", ROLES, index=ROLES.index(current.role), key=f"admin_change_role_{chosen}")
            active = st.checkbox("Active (may sign in)", value=current.active, key=f"admin_change_active_{chosen}")
            password = st.text_input(
                "New password (leave empty to keep)", type="password", key=f"admin_change_password_{chosen}"
            )
            if st.form_submit_button("Save account"):
                try:
                    # Only what changed is sent.
                    update_user(
                        engine,
                        username=chosen,
                        role=role if role != current.role else None,
                        active=active if active != current.active else None,
                        password=password or None,
                    )
                    st.session_state["admin_flash"] = f"Saved {chosen}."
                    st.rerun()
                except InvalidValue as e:
                    st.error(f"{e.field}: {md_escape(e.message)}")


def settings_form(project: str) -> None:
    engine = get_engine()
    current = load_settings(engine, project)
    preset = st.selectbox("Add a preset of error types", ["(none)", *TAXONOMY_PRESETS], key=f"admin_preset_{project}")
    with st.form(f"admin_settings_{project}"):
        description = st.text_input("Description", value=current.description, key=f"admin_description_{project}")
        guidelines = st.text_area(
            "Guidelines (Markdown; annotators see them beside the trace)",
            value=current.guidelines,
            height=200,
            key=f"admin_guidelines_{project}",
        )
        taxonomy = list(current.taxonomy)
        if preset != "(none)":
            taxonomy = list(dict.fromkeys([*taxonomy, *TAXONOMY_PRESETS[preset]]))
        taxonomy_text = st.text_area(
            "Error types (one per line)",
            value="\n".join(taxonomy),
            height=150,
            key=f"admin_taxonomy_{project}_{preset}",
        )
        mode = st.radio(
            "Label mode",
            LABEL_MODES,
            index=LABEL_MODES.index(current.label_mode),
            format_func=MODE_TITLES.get,
            key=f"admin_label_mode_{project}",
        )
        left, right = st.columns(2)
        per_trace = left.number_input(
            "Annotators per trace", 1, 50, value=current.judgments_per_trace, key=f"admin_judgments_per_trace_{project}"
        )
        minutes = right.number_input(
            "Hold a served trace for (minutes)",
            1,
            24 * 60,
            value=current.reservation_minutes,
            key=f"admin_reservation_{project}",
        )
        order = left.selectbox(
            "Queue order",
            QUEUE_ORDERS,
            index=QUEUE_ORDERS.index(current.queue_order),
            format_func=ORDER_TITLES.get,
            key=f"admin_queue_order_{project}",
        )
        licence = right.text_input(
            "Licence of the labels (for dataset cards)", value=current.licence, key=f"admin_licence_{project}"
        )
        blind = st.toggle(
            "Blind: annotators see neither other people's judgments nor reference labels",
            value=current.blind,
            key=f"admin_blind_{project}",
        )
        if st.form_submit_button("Save settings", type="primary"):
            settings = ProjectSettings(
                description=description,
                guidelines=guidelines,
                taxonomy=tuple(t.strip() for t in taxonomy_text.splitlines() if t.strip()),
                label_mode=mode,
                judgments_per_trace=int(per_trace),
                blind=blind,
                queue_order=order,
                reservation_minutes=int(minutes),
                licence=licence,
            )
            try:
                save_settings(engine, project, settings)
                if order == "priority":
                    raised = priorities_from_model_disagreement(engine, project_rules(engine, project))
                    st.session_state["admin_flash"] = f"Saved. {raised} traces where model critics disagree come first."
                else:
                    st.session_state["admin_flash"] = "Saved."
                st.rerun()
            except InvalidValue as e:
                st.error(f"{e.field}: {md_escape(e.message)}")
    with st.expander("Preview of the guidelines"):
        st.markdown(shown_markdown(current.guidelines) or "_empty_")


def members_form(project: str) -> None:
    engine = get_engine()
    everyone = [u.username for u in list_users(engine) if u.active]
    with st.form(f"admin_members_{project}"):
        chosen = st.multiselect(
            "Who works on this project (admins see every project)",
            everyone,
            default=[m for m in members_of(engine, project) if m in everyone],
            key=f"admin_members_{project}",
        )
        if st.form_submit_button("Save members"):
            set_members(engine, project=project, usernames=chosen)
            st.session_state["admin_flash"] = f"{len(chosen)} members on {project}."
            st.rerun()


def quality_section(project: str) -> None:
    engine = get_engine()
    n_qc, rows = quality_control(engine, project)
    st.caption(
        f"{n_qc} quality-control traces. Every annotator is served them (one after every nine others); "
        "each needs a reference label, and each annotator's first error is scored against it."
    )
    left, right = st.columns([2, 1])
    text = left.text_input("Traces (as numbered on the Annotate page), e.g. 1-5, 12", key="admin_qc_positions")
    mark = right.segmented_control("Action", ["Mark as QC", "Unmark"], default="Mark as QC", key="admin_qc_action")
    if st.button("Apply", key="admin_qc_apply"):
        try:
            changed = set_quality_control(engine, project, positions=parse_positions(text), qc=mark == "Mark as QC")
            st.session_state["admin_flash"] = f"{changed} traces changed."
            st.rerun()
        except InvalidValue as e:
            st.error(f"{e.field}: {md_escape(e.message)}")
    if not rows:
        st.info("No annotator has judged a quality-control trace yet.")
        return
    table = pd.DataFrame(
        [
            {
                "annotator": r.annotator,
                "QC traces judged": r.judged,
                "first error exact": r.accuracy,
                "error / no error agrees": r.error_detection,
            }
            for r in rows
        ]
    )
    st.dataframe(
        table,
        hide_index=True,
        key="admin_qc_table",
        column_config={
            "first error exact": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="percent"),
            "error / no error agrees": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="percent"),
        },
    )
    chart = px.bar(
        table.assign(annotator=table["annotator"].map(html.escape)),
        x="annotator",
        y="first error exact",
        range_y=[0, 1],
    )
    chart.update_layout(margin={"t": 10}, yaxis_tickformat=".0%")
    st.plotly_chart(chart, key="admin_qc_chart")


def admin_page() -> None:
    require_admin()
    st.title("Admin")
    if flash := st.session_state.pop("admin_flash", None):
        st.success(flash)
    users_tab, projects_tab = st.tabs(["Accounts", "Projects"])
    with users_tab:
        users_section()
    with projects_tab:
        projects = project_names(get_engine())
        if not projects:
            st.info("No projects yet: import a file to make one.")
            return
        project = st.selectbox("Project", projects, key="admin_project")
        settings_tab, members_tab, qc_tab = st.tabs(["Settings", "Members", "Quality control"])
        with settings_tab:
            settings_form(project)
        with members_tab:
            members_form(project)
        with qc_tab:
            quality_section(project)


admin_page()
