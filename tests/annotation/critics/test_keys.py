"""API keys only from names the operator allows (finding 2 of the trust issue): DATABASE_URL, an unlisted
variable or a secrets section is refused before any request; with no key named, a placeholder is sent and
never a key litellm would find in the environment itself."""

from __future__ import annotations

import pytest

from annotation.cli.main import main
from annotation.critics.config import get_critic
from annotation.critics.keys import ALLOWED_NAMES_ENV, PLACEHOLDER_KEY, KeyNotAllowed, api_key
from annotation.critics.reason_agreement import judge_reasons
from annotation.critics.runs import run_critic, run_history
from tests.annotation.critics.test_reason_agreement import HUMAN, MODEL, project  # noqa: F401 (a fixture)
from tests.utils.critic_data import make_project, stub_critic
from tests.utils.openai_stub import OpenAIStub


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'keys.db'}")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-server-own-key-never-sent")
    monkeypatch.setenv("OTHER_SECRET", "sk-not-listed-never-sent")
    monkeypatch.setenv("LISTED_KEY", "sk-listed-key")
    monkeypatch.setenv(ALLOWED_NAMES_ENV, "LISTED_KEY, DATABASE_URL")
    return monkeypatch


@pytest.mark.parametrize("name", ["DATABASE_URL", "OTHER_SECRET", "REDLINE_API_KEY_NAMES", "OPENAI_API_KEY"])
def test_a_name_not_allowed_is_refused_by_name(env, name):
    with pytest.raises(KeyNotAllowed) as caught:
        api_key(name)
    assert name in caught.value.message


def test_a_secrets_section_is_refused_even_when_listed(env):
    secrets = {"auth": {"client_secret": "oidc-secret"}, "api_key_names": ["auth", "FROM_SECRETS"]}
    with pytest.raises(KeyNotAllowed, match="section"):
        api_key("auth", secrets)
    assert api_key("FROM_SECRETS", secrets | {"FROM_SECRETS": "sk-s"}) == "sk-s"


def test_no_name_gives_the_placeholder_and_a_listed_name_its_value(env):
    assert api_key(None) == PLACEHOLDER_KEY
    assert api_key("LISTED_KEY") == "sk-listed-key"


def test_a_run_naming_the_database_url_sends_nothing(env, tmp_path):
    from annotation.ops.startup import prepare

    engine = prepare()
    make_project(engine, "p", 3)
    with OpenAIStub("\\boxed{-1}") as stub:
        config = stub_critic(engine, stub.api_base, api_key_env="DATABASE_URL")
        with pytest.raises(KeyNotAllowed):
            run_critic(engine, config, "p")
        other = stub_critic(engine, stub.api_base, name="other", api_key_env="OTHER_SECRET")
        with pytest.raises(KeyNotAllowed):
            run_critic(engine, other, "p")
        assert stub.requests == 0
    assert run_history(engine) == []  # refused before a run was recorded
    engine.dispose()


def test_a_run_with_no_key_named_sends_the_placeholder_not_the_environment_key(env, tmp_path):
    from annotation.ops.startup import prepare

    engine = prepare()
    make_project(engine, "p", 2)
    with OpenAIStub("\\boxed{-1}") as stub:
        config = stub_critic(engine, stub.api_base, api_key_env="")
        run_critic(engine, get_critic(engine, config.name), "p")
        assert stub.requests == 2
    assert stub.authorizations == {f"Bearer {PLACEHOLDER_KEY}"}


def test_the_cli_refuses_a_key_name_not_allowed_before_saving_or_sending(env, tmp_path, capsys):
    from annotation.ops.startup import prepare

    engine = prepare()
    make_project(engine, "p", 2)
    with OpenAIStub("\\boxed{-1}") as stub:
        code = main(
            [
                *("critique", "--project", "p", "--model", "openai/x", "--api-base", stub.api_base),
                *("--api-key-env", "OTHER_SECRET", "--quiet"),
            ]
        )
        assert stub.requests == 0
    assert code == 2
    assert "OTHER_SECRET is not among the API key names the operator allows" in capsys.readouterr().err
    assert get_critic(engine, "x") is None
    engine.dispose()


def test_the_reason_judge_never_sends_the_servers_key_to_a_typed_api_base(env, project):  # noqa: F811
    engine, _ = project
    with OpenAIStub("VERDICT: SAME") as stub:
        judge_reasons(engine, "p", human=HUMAN, model=MODEL, judge="openai/j", options={"api_base": stub.api_base})
        with pytest.raises(KeyNotAllowed):
            judge_reasons(
                engine,
                "p",
                human=HUMAN,
                model=MODEL,
                judge="openai/k",
                options={"api_base": stub.api_base},
                api_key_env="OPENAI_API_KEY",
            )
        assert stub.requests == 2
    assert stub.authorizations == {f"Bearer {PLACEHOLDER_KEY}"}
