"""Secrets: the credentials skillway holds (kept out of child processes, logs and transcripts), and
files that look like secrets (kept out of prompts)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

# Credentials skillway reads; none of them is ever handed to a hook, a shell command or a file.
SECRET_VARIABLES = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "SKILLWAY_API_KEY")
REDACTED = "[REDACTED]"


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    environ = os.environ if environ is None else environ
    return [environ[name] for name in SECRET_VARIABLES if len(environ.get(name, "")) >= 8]


def child_environment(extra: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The user's environment minus skillway's secrets, plus `extra`."""
    environ = os.environ if environ is None else environ
    env = {key: value for key, value in environ.items() if key not in SECRET_VARIABLES}
    env.update(extra or {})
    return env


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """`text` with every secret value replaced: the last guard before text is logged or stored."""
    for value in secret_values(environ):
        text = text.replace(value, REDACTED)
    return text


_SECRET_NAMES = re.compile(
    r"""^(\.env(\..*)?|.*\.(pem|key|p12|pfx|jks|keystore|asc|gpg)|id_(rsa|dsa|ecdsa|ed25519)(\.pub)?|\.netrc|\.pgpass|
    \.npmrc|\.pypirc|credentials(\..*)?|.*secrets?(\..*)?|.*\.tfvars|kubeconfig|\.htpasswd)$""",
    re.IGNORECASE | re.VERBOSE,
)


def is_secret_file(path: str | Path) -> bool:
    """Files that look like secrets (.env*, keys, credential files): never put into a prompt."""
    return bool(_SECRET_NAMES.match(Path(path).name))
