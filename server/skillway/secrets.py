"""The secrets skillway holds (API credentials): kept out of child processes, logs and transcripts."""

from __future__ import annotations

import os
from collections.abc import Mapping

# Credentials skillway reads; none of them is ever handed to a hook, a shell command or a file.
SECRET_VARIABLES = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "SKILLWAY_API_KEY")
REDACTED = "[REDACTED]"


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    environ = os.environ if environ is None else environ
    return [environ[name] for name in SECRET_VARIABLES if len(environ.get(name, "")) >= 8]


def child_environment(extra: Mapping[str, str] = (), environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The user's environment minus skillway's secrets, plus `extra`."""
    environ = os.environ if environ is None else environ
    env = {key: value for key, value in environ.items() if key not in SECRET_VARIABLES}
    env.update(extra)
    return env


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """`text` with every secret value replaced: the last guard before text is logged or stored."""
    for value in secret_values(environ):
        text = text.replace(value, REDACTED)
    return text
