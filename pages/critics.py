"""Critics (admins): save model critics, preview their prompt on a real trace, run them over a project.

A run goes on in a thread of its own: this page shows its progress with the time left, can cancel it,
and lists earlier runs with their cost. API keys come from the environment or Streamlit secrets, named
by the critic; they are never saved.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from annotation.core.model import InvalidValue
from annotation.critics.config import CriticConfig, api_key_for, get_critic, list_critics, save_critic
from annotation.critics.family import family_warning
from annotation.critics.keys import KeyNotAllowed, allowed_key_names, check_key_name
from annotation.critics.runs import REFERENCE_CHOICES, BackgroundRun, RunFilter, run_history
from annotation.critics.templates import BUILT_IN, CUSTOM, PLACEHOLDERS, preview, resolve, template_names
from annotation.projects.overview import project_names
from annotation.projects.traces import generators as generators_of
from annotation.projects.traces import trace_number
from pages.auth import require_admin
from pages.common import VISION_HELP, VISION_TITLES, get_engine, md_escape, show_run

NEW = "New critic…"
ALL_GENERATORS = "(all generators)"
REFERENCE_TITLES = {
    "any": "every trace",
    "error": "reference says: an error",
    "no_error": "reference says: no error",
    "unlabelled": "no reference label",
}
FIELDS = {
    "critics_name": ("name", ""),
    "critics_model": ("model", ""),
    "critics_api_base": ("api_base", ""),
    "critics_key_env": ("api_key_env", ""),
    "critics_template": ("template", "processbench"),
    "critics_prompt": ("prompt", ""),
    "critics_temperature": ("temperature", 0.0),
    "critics_max_tokens": ("max_tokens", 2048),
    "critics_samples": ("samples", 1),
    "critics_timeout": ("timeout_s", 120.0),
    "critics_retries": ("retries", 3),
    "critics_vision": ("vision", None),
}


@st.cache_resource
def active_runs() -> dict[int, BackgroundRun]:
    """Runs started from this server process, by run id, so any rerun (or tab) can follow or cancel them."""
    return {}


def load_into_form() -> None:
    """Fill the form with the chosen critic (or defaults for a new one)."""
    choice = st.session_state.get("critics_pick")
    config = get_critic(get_engine(), choice) if choice and choice != NEW else None
    for key, (attr, default) in FIELDS.items():
        value = getattr(config, attr) if config is not None else default
        st.session_state[key] = default if value is None and key != "critics_vision" else value
    if st.session_state["critics_template"] != CUSTOM:
        st.session_state["critics_prompt"] = BUILT_IN[st.session_state["critics_template"]].text


def form_config() -> CriticConfig:
    s = st.session_state
    template = s["critics_template"]
    return CriticConfig(
        name=s["critics_name"].strip(),
        model=s["critics_model"].strip(),
        api_base=s["critics_api_base"].strip() or None,
        template=template,
        prompt=s.get("critics_prompt") if template == CUSTOM else None,
        temperature=float(s["critics_temperature"]),
        max_tokens=int(s["critics_max_tokens"]),
        samples=int(s["critics_samples"]),
        timeout_s=float(s["critics_timeout"]),
        retries=int(s["critics_retries"]),
        api_key_env=s["critics_key_env"].strip() or None,
        vision=s.get("critics_vision"),
    )


def on_template() -> None:
    # A custom template starts from the built-in one chosen before, so users edit rather than start blank.
    if st.session_state["critics_template"] == CUSTOM and not st.session_state.get("critics_prompt"):
        st.session_state["critics_prompt"] = BUILT_IN[
            st.session_state.get("critics_last_template", "processbench")
        ].text


def critic_form(engine: Engine) -> None:
    names = [c.name for c in list_critics(engine)]
    st.selectbox("Critic", [NEW, *names], key="critics_pick", on_change=load_into_form)
    if "critics_name" not in st.session_state:
        load_into_form()
    left, right = st.columns(2)
    left.text_input("Name (judgments get the source model:NAME)", key="critics_name", placeholder="gpt-4o-mini-pb")
    left.text_input(
        "Model (litellm)",
        key="critics_model",
        placeholder="openai/gpt-4o-mini · anthropic/claude-sonnet-4-5 · ollama/qwen2.5 · hosted_vllm/Qwen/Qwen2.5-7B",
    )
    left.text_input("API base (for Ollama, vLLM and other servers)", key="critics_api_base", placeholder="http://…/v1")
    left.text_input(
        "API key variable",
        key="critics_key_env",
        placeholder="OPENAI_API_KEY",
        help="The NAME of an environment variable or Streamlit secret holding the key; the key is never saved. "
        f"Names the operator allows: {', '.join(sorted(allowed_key_names(st.secrets))) or 'none yet'} "
        "(REDLINE_API_KEY_NAMES). Leave empty for a server that needs no key.",
    )
    right.selectbox(
        "Prompt template",
        template_names(),
        key="critics_template",
        on_change=on_template,
        format_func=lambda t: "Custom (write your own)" if t == CUSTOM else BUILT_IN[t].title,
    )
    numbers = right.columns(3)
    numbers[0].number_input("Temperature", 0.0, 2.0, step=0.1, key="critics_temperature")
    numbers[1].number_input("Max tokens", 1, 200_000, step=256, key="critics_max_tokens")
    numbers[2].number_input("Samples (majority vote)", 1, 32, key="critics_samples")
    more = right.columns(3)
    more[0].number_input("Timeout per request (s)", 1.0, 3600.0, step=10.0, key="critics_timeout")
    more[1].number_input("Retries", 0, 10, key="critics_retries")
    more[2].selectbox(
        "A trace's images",
        list(VISION_TITLES),
        format_func=VISION_TITLES.get,
        key="critics_vision",
        help=VISION_HELP,
    )
    template = st.session_state["critics_template"]
    if template != CUSTOM:
        st.session_state["critics_last_template"] = template
        st.session_state.pop("critics_prompt", None)
    if template == CUSTOM:
        st.text_area("Your template", key="critics_prompt", height=260)
        st.caption("Placeholders: " + " · ".join(f"${k} ({v})" for k, v in PLACEHOLDERS.items()))
    else:
        st.caption(md_escape(BUILT_IN[template].description))
    if st.button("Save critic", key="critics_save", type="primary", icon=":material/save:"):
        try:
            config = form_config()
            check_key_name(config.api_key_env, st.secrets)
            saved = save_critic(engine, config)
        except InvalidValue as e:
            st.error(f"Not saved: {e.field}: {md_escape(e.message)}")
        else:
            st.session_state["critics_flash"] = f"Saved critic {saved.name}."
            st.session_state["critics_pending_pick"] = saved.name
            st.rerun()


def prompt_preview(engine: Engine, projects: list[str]) -> None:
    st.subheader("Preview the prompt")
    cols = st.columns([3, 1])
    project = cols[0].selectbox("Project", projects, key="critics_preview_project")
    number = cols[1].number_input("Trace #", 1, 1_000_000, key="critics_preview_trace")
    try:
        trace = trace_number(engine, project, int(number))
        template = resolve(st.session_state["critics_template"], st.session_state.get("critics_prompt"))
    except InvalidValue as e:
        st.error(f"{e.field}: {md_escape(e.message)}")
        return
    if trace is None:
        st.info("That project has no trace with this number.")
        return
    # st.code shows the text exactly as sent: nothing in a trace is rendered or run.
    st.code(preview(template, trace), language=None, wrap_lines=True)


def start_run(engine: Engine, config: CriticConfig, project: str, filters: RunFilter, concurrency: int) -> None:
    try:
        key = api_key_for(config, st.secrets)
    except KeyNotAllowed as e:
        st.error(f"The run did not start, nothing was sent: {md_escape(e.message)}")
        return
    run = BackgroundRun(engine, config, project, filters=filters, concurrency=concurrency, api_key=key).start()
    if run.progress is None:
        st.error(f"The run did not start: {md_escape(run.error or 'unknown error')}")
        return
    active_runs()[run.progress.run_id] = run
    st.session_state["critics_run_id"] = run.progress.run_id


def run_section(engine: Engine, projects: list[str]) -> None:
    st.subheader("Run a critic")
    critics = [c.name for c in list_critics(engine)]
    if not critics:
        st.info("Save a critic above to run it.")
        return
    cols = st.columns(2)
    critic = cols[0].selectbox("Critic to run", critics, key="critics_run_critic")
    project = cols[1].selectbox("Over project", projects, key="critics_run_project")
    config = get_critic(engine, critic)
    generators = generators_of(engine, project)
    filters = st.columns(4)
    generator = filters[0].selectbox("Generator", [ALL_GENERATORS, *sorted(generators)], key="critics_run_generator")
    reference = filters[1].selectbox(
        "Traces", REFERENCE_CHOICES, key="critics_run_reference", format_func=REFERENCE_TITLES.get
    )
    limit = filters[2].number_input("At most (0 = all)", 0, 10_000_000, key="critics_run_limit")
    concurrency = filters[3].number_input("Concurrency", 1, 256, value=8, key="critics_run_concurrency")
    warning = family_warning(config.model, dict(generators))
    if warning:
        st.warning(md_escape(warning), icon=":material/family_history:")
    chosen = RunFilter(
        generator=None if generator == ALL_GENERATORS else generator, reference=reference, limit=int(limit) or None
    )
    busy = (
        st.session_state.get("critics_run_id") in active_runs()
        and active_runs()[st.session_state["critics_run_id"]].alive
    )
    if st.button("Run", key="critics_run_start", type="primary", icon=":material/play_arrow:", disabled=busy):
        start_run(engine, config, project, chosen, int(concurrency))
    run_id = st.session_state.get("critics_run_id")
    if run_id in active_runs():
        run_progress(run_id)


@st.fragment(run_every=1.0)
def run_progress(run_id: int) -> None:
    run = active_runs().get(run_id)
    if run is not None:
        show_run(
            run,
            run_id,
            name="Run",
            progress=lambda p: (
                f"{p.finished} of {p.total} traces ({p.skipped} already done, {p.failed} failed, "
                f"{p.unparsed} unparsed) · cost ${p.cost:.4f}"
            ),
            finished=lambda p: f"{p.done} critiqued, {p.skipped} skipped, {p.failed} failed.",
            keys="critics_run",
        )


def history(engine: Engine) -> None:
    st.subheader("Runs")
    runs = run_history(engine)
    if not runs:
        st.caption("No runs yet.")
        return
    table = pd.DataFrame(
        [
            {
                "run": r.id,
                "critic": r.critic,
                "project": r.project,
                "status": r.status,
                "traces": r.total,
                "critiqued": r.done,
                "skipped": r.skipped,
                "failed": r.failed,
                "cost ($)": round(r.cost, 6),
                "started": r.started_at,
                "finished": r.finished_at or "",
            }
            for r in runs
        ]
    )
    st.dataframe(table, hide_index=True)
    st.caption(f"Total cost of these runs: ${sum(r.cost for r in runs):.4f}")


def main() -> None:
    require_admin()
    engine = get_engine()
    st.title("Critics")
    st.caption(
        "A critic is a model (any litellm provider) with a prompt template. Its judgments have the source "
        "model:NAME and can be checked on the Check critiques page."
    )
    pending = st.session_state.pop("critics_pending_pick", None)
    if pending:
        st.session_state["critics_pick"] = pending
    flash = st.session_state.pop("critics_flash", None)
    if flash:
        st.success(md_escape(flash), icon=":material/check_circle:")
    critic_form(engine)
    projects = project_names(engine)
    if not projects:
        st.info("Import traces on the Import page to preview and run critics.")
        return
    prompt_preview(engine, projects)
    run_section(engine, projects)
    history(engine)


main()
