"""The real `git`, run through core.processes: clones and fetches of plugins and marketplaces.

Argument lists only, never a shell, and every run has a timeout. git never prompts: a private
repository without credentials fails at once instead of waiting on a terminal nobody sees. A URL's
user and password never appear in a message.
"""

from __future__ import annotations

import re
from pathlib import Path

from skillway.core import processes
from skillway.core.secrets import child_environment, redact

# A clone or fetch crosses the network: room for a big repository on a slow link. Local commands
# (checkout, rev-parse) take moments.
NETWORK_TIMEOUT_SECONDS = 300.0
LOCAL_TIMEOUT_SECONDS = 60.0
_NO_PROMPTS = {"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never"}
_CREDENTIALS_IN_URL = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")
_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")


class GitError(Exception):
    """git failed (or is missing, or took too long); the message is git's own, credentials removed."""


def without_credentials(text: str) -> str:
    """`text` with the `user:password@` of every URL in it taken out."""
    return redact(_CREDENTIALS_IN_URL.sub(r"\1", text))


def is_commit(text: str) -> bool:
    """True for a commit id, full or abbreviated (7 to 40 lowercase hex digits)."""
    return bool(_COMMIT.match(text))


def check_ref(ref: str) -> str | None:
    """Why `ref` (a branch or tag name from a marketplace) is refused, or None: a leading `-` would
    be read as an option, a `:` makes a refspec that writes local refs."""
    if not ref or ref.startswith("-") or ":" in ref or any(c.isspace() or ord(c) < 32 for c in ref):
        return f'"{ref}" is not a branch or tag name'
    return None


async def git(*args: str, cwd: Path | None = None, timeout: float = LOCAL_TIMEOUT_SECONDS) -> str:
    """Run `git ARGS`; its standard output, or GitError."""
    done = await processes.run(["git", *args], env=child_environment(_NO_PROMPTS), cwd=cwd, timeout=timeout)
    if done.exit_code == processes.EXIT_NOT_FOUND and not done.stdout:
        raise GitError("git is not installed (or not on PATH)")
    if done.timed_out:
        raise GitError(f"git {args[0]} took longer than {timeout:g} s")
    if done.exit_code != 0:
        raise GitError(without_credentials(_reason(done.stderr)) or f"git {args[0]} failed with exit code {done.exit_code}")
    return done.stdout


def _reason(stderr: str) -> str:
    """What the server said and git's first fatal line: the advice that follows it is always the same."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    fatal = next((line for line in lines if line.startswith(("fatal:", "error:"))), None)
    if fatal is None:
        return "; ".join(line for line in lines if not line.startswith(("warning:", "hint:")))
    return "; ".join([line for line in lines[:lines.index(fatal)] if line.startswith("remote:")] + [fatal])


async def clone(url: str, destination: Path, *, ref: str | None = None, commit: str | None = None) -> str:
    """Clone `url` into `destination` (which must not exist yet) and check out `commit`, else the tip
    of `ref`, else the default branch. Returns the full id of the commit checked out."""
    if ref is not None and (why := check_ref(ref)):
        raise GitError(f"ref {why}")
    if commit is not None and not is_commit(commit):
        raise GitError(f'"{commit}" is not a commit id')
    args = ["clone", "--quiet", "--no-checkout"]
    if commit is None:
        args += ["--depth", "1"]  # the tip is all that is checked out: no history to download
    if ref is not None:
        args += ["--branch", ref]
    await git(*args, "--", url, str(destination), timeout=NETWORK_TIMEOUT_SECONDS)
    await git("-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit or "HEAD", cwd=destination)
    checked_out = await head(destination)
    if commit is not None and not checked_out.startswith(commit):
        raise GitError(f"{commit} is not a commit of {without_credentials(url)}")
    return checked_out


async def fetch_newest(repository: Path, ref: str | None = None) -> str:
    """Fetch the tip of `ref` (default: the remote's default branch) into the clone at `repository`
    and check it out. Returns the full id of the commit checked out."""
    if ref is not None and (why := check_ref(ref)):
        raise GitError(f"ref {why}")
    await git("fetch", "--quiet", "--depth", "1", "origin", ref or "HEAD", cwd=repository, timeout=NETWORK_TIMEOUT_SECONDS)
    await git("-c", "advice.detachedHead=false", "checkout", "--quiet", "--force", "--detach", "FETCH_HEAD", cwd=repository)
    return await head(repository)


async def head(repository: Path) -> str:
    """The full id of the commit checked out at `repository`."""
    return (await git("rev-parse", "HEAD", cwd=repository)).strip()
