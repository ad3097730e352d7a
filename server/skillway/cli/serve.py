"""`skillway serve`: the language server an editor starts, over stdio (the default), TCP or WebSocket."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from skillway.lsp.main import run as serve


def run(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    address = args.tcp or args.ws
    host, port = "127.0.0.1", 2087
    if address:
        host, _, port_text = address.rpartition(":")
        if not port_text.isdigit():
            print(f"skillway: expected HOST:PORT, got {address!r}", file=sys.stderr)
            return 1
        host, port = host or "127.0.0.1", int(port_text)
    serve("tcp" if args.tcp else "ws" if args.ws else "stdio", host, port, plugin_dirs)
    return 0
