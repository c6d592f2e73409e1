"""Which API key a model call carries: only one the operator allowed by name, or a placeholder.

A critic (or the reason judge) names the variable holding its key, and that name is typed in a page
or on the command line. Without a rule, naming ``DATABASE_URL`` or a secrets section such as ``auth``
would send the database password or an OIDC client secret to whatever api_base was typed. So a name
is honoured only when the operator lists it, in the environment variable ``REDLINE_API_KEY_NAMES``
(comma- or space-separated) or the Streamlit secret ``api_key_names`` (a list or the same text), and
only when it holds a string. A call with no key named carries a placeholder, never a key that
litellm would otherwise pick up from the environment for the typed api_base.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from annotation.core.model import InvalidValue

ALLOWED_NAMES_ENV = "REDLINE_API_KEY_NAMES"
ALLOWED_NAMES_SECRET = "api_key_names"
# Sent when no key is named: local OpenAI-compatible servers want some key and accept any.
PLACEHOLDER_KEY = "sk-redline-no-key"
# Never a key, whatever the operator lists: the database URL and Redline's own settings.
NEVER = re.compile(r"^(DATABASE_URL|REDLINE_.*)$", re.IGNORECASE)


class KeyNotAllowed(InvalidValue):
    """The named key may not be used; nothing was sent."""

    def __init__(self, message: str) -> None:
        super().__init__("api_key_env", message)


def _secret(secrets: Mapping[str, Any] | None, name: str) -> Any:
    if secrets is None:
        return None
    try:
        return secrets.get(name)
    except Exception:  # st.secrets raises when there is no secrets file
        return None


def _names(value: Any) -> set[str]:
    if isinstance(value, str):
        return {n for n in re.split(r"[\s,]+", value) if n}
    if isinstance(value, (list, tuple)):
        return {str(n).strip() for n in value if isinstance(n, str) and n.strip()}
    return set()


def allowed_key_names(secrets: Mapping[str, Any] | None = None) -> set[str]:
    """The names the operator allows, from the environment and the secrets."""
    names = _names(os.environ.get(ALLOWED_NAMES_ENV, "")) | _names(_secret(secrets, ALLOWED_NAMES_SECRET))
    return {n for n in names if not NEVER.match(n)}


def check_key_name(name: str | None, secrets: Mapping[str, Any] | None = None) -> None:
    """Refuse a name the operator did not allow (KeyNotAllowed), before anything is sent."""
    if not name:
        return
    if NEVER.match(name):
        raise KeyNotAllowed(f"{name} is Redline's own setting, never an API key")
    allowed = allowed_key_names(secrets)
    if name not in allowed:
        listed = ", ".join(sorted(allowed)) or "none yet"
        raise KeyNotAllowed(
            f"{name} is not among the API key names the operator allows ({listed}); the operator lists them in "
            f"{ALLOWED_NAMES_ENV} or the secret {ALLOWED_NAMES_SECRET}"
        )


def api_key(name: str | None, secrets: Mapping[str, Any] | None = None) -> str:
    """The key to send: the allowed variable's value (secrets first, then the environment), or the placeholder.

    A name that is not allowed, holds a section rather than a string, or holds nothing is refused.
    """
    if not name:
        return PLACEHOLDER_KEY
    check_key_name(name, secrets)
    value = _secret(secrets, name)
    if value is not None and not isinstance(value, str):
        raise KeyNotAllowed(f"the secret {name} is a section, not a key")
    value = value or os.environ.get(name)
    if not value:
        raise KeyNotAllowed(f"{name} is allowed but holds no key in the secrets or the environment")
    return value
