"""`skillway ARGS` run inside the test's process: main() gets the environment, working directory,
stdin and output streams a child process would, and the answer has a CompletedProcess's shape. What
it logs at WARNING and above goes to its stderr, as Python's last-resort handler writes it in a
process that configures no logging (as the CLI does not).

The SDK then loads once per test run instead of once per command (seconds each). What only a real
process shows (a closed pipe, an installed wheel, a git hook that finds `skillway` on
PATH, the language server's own process) stays with the tests that start one.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from skillway.cli.main import main


def run_skillway(args, *, cwd: Path, env: Mapping[str, str], input: str | None = None) -> subprocess.CompletedProcess[str]:
    argv = [str(arg) for arg in args]
    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_cwd, saved_streams = dict(os.environ), os.getcwd(), (sys.stdin, sys.stdout, sys.stderr)
    logged = logging.StreamHandler(err)
    logged.setLevel(logging.WARNING)
    logging.getLogger().addHandler(logged)
    os.environ.clear()
    os.environ.update(env)
    try:
        os.chdir(cwd)
        sys.stdin, sys.stdout, sys.stderr = io.StringIO(input or ""), out, err
        try:
            code = main(argv)
        except SystemExit as exit:  # argparse refusing the arguments
            code = exit.code if isinstance(exit.code, int) else 0 if exit.code is None else 1
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        logging.getLogger().removeHandler(logged)
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(["skillway", *argv], code, out.getvalue(), err.getvalue())
