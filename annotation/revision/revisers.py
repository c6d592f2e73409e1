"""Who revises: a saved critic configuration, or a model string with an api_base (the CLI's --model, the page's
"a model"). One function for both, so a model string is checked the same way wherever it is typed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine

from annotation.core.model import InvalidValue
from annotation.critics.config import CriticConfig, default_name, get_critic
from annotation.critics.keys import check_key_name


def saved_reviser(engine: Engine, name: str) -> CriticConfig:
    config = get_critic(engine, name)
    if config is None:
        raise InvalidValue("reviser", f"no saved critic named {name!r}; save it first, or give a model")
    return config


def model_reviser(
    engine: Engine,
    model: str,
    *,
    api_base: str | None = None,
    api_key_env: str | None = None,
    name: str | None = None,
    vision: bool | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> CriticConfig:
    """A reviser of a litellm model string, named ``name`` (default: the model's) in the results. Raises
    InvalidValue, naming the field, for a bad model, api_base or key name, and for a name a saved critic of other
    settings has: results are read by the reviser's name, so a model string must not pass for that critic.
    ``vision``: whether it is sent the trace's images (None: as litellm knows the model)."""
    model = (model or "").strip()
    if not model:
        raise InvalidValue("model", "give a litellm model string, e.g. openai/gpt-4o-mini or hosted_vllm/qwen")
    name = (name or "").strip() or default_name(model)
    config = CriticConfig(
        name=name,
        model=model,
        api_base=(api_base or "").strip() or None,
        api_key_env=(api_key_env or "").strip() or None,
        vision=vision,
    ).validate()
    saved = get_critic(engine, name)
    if saved is not None and saved.config_hash() != config.config_hash():
        raise InvalidValue(
            "name",
            f"a saved critic is named {name!r}, with other settings: revise with that saved critic, or give this "
            "model another name",
        )
    check_key_name(config.api_key_env, secrets)  # refused, naming it, before anything is sent
    return config
