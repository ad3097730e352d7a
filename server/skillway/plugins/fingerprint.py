"""What trusting a workspace covers, as one hash: the hooks its own plugins bring and the settings its
own file holds back until then. A change to either asks for trust again."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

from skillway.plugins.model import Plugin, Source


def hook_fingerprint(plugins: list[Plugin], settings_requests: dict | None = None) -> str:
    """A hash of every hook the workspace itself brings (its own plugins and settings files) and of
    the settings its own file sets that wait for trust (baseUrl, pluginDirs, ...): changing any of
    them asks for trust again."""
    config: list = [
        {"plugin": p.name, "root": str(p.root), "event": g.event, "matcher": g.matcher,
         "handlers": [asdict(h) for h in g.handlers]}
        for p in plugins if p.source is Source.WORKSPACE for g in p.hooks
    ]
    if settings_requests:
        config.append({"settings": settings_requests})
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()
