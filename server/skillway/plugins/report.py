"""Plugin summaries for people (text) and programs (JSON): what `plugins list|show` print."""

from __future__ import annotations

from collections.abc import Sequence

from skillway.core.problems import Problem
from skillway.plugins.discovery import PluginSet
from skillway.plugins.model import Plugin


def summary(plugin: Plugin) -> dict:
    return {
        "name": plugin.name,
        "version": plugin.version,
        "source": plugin.source.value,
        "marketplace": plugin.marketplace,
        "commit": plugin.commit,
        "root": str(plugin.root),
        "loaded": plugin.loaded,
        "commands": len(plugin.commands),
        "skills": len(plugin.skills),
        "agents": len(plugin.agents),
        "hook_handlers": plugin.hook_handler_count,
        "errors": sum(p.is_error for p in plugin.problems),
        "warnings": sum(not p.is_error for p in plugin.problems),
        "problems": [p.to_json() for p in plugin.problems],
    }


def details(plugin: Plugin) -> dict:
    data = summary(plugin)
    data.update(
        description=plugin.description,
        manifest=str(plugin.manifest_path) if plugin.manifest_path else None,
        commands=[{"name": plugin.qualified(c.name), "description": c.description,
                   "argument_hint": c.argument_hint, "path": str(c.path)} for c in plugin.commands],
        skills=[{"name": plugin.qualified(s.name), "description": s.description,
                 "user_invocable": s.user_invocable, "model_invocable": not s.disable_model_invocation,
                 "path": str(s.path)} for s in plugin.skills],
        agents=[{"name": plugin.qualified(a.name), "description": a.description,
                 "tools": list(a.tools) if a.tools is not None else None, "path": str(a.path)} for a in plugin.agents],
        hooks=[{"event": g.event, "matcher": g.matcher, "handlers": len(g.handlers),
                "path": str(g.path), "line": g.line} for g in plugin.hooks],
    )
    return data


def listing(plugins: PluginSet) -> dict:
    return {
        "plugins": [summary(p) for p in plugins.plugins],
        "marketplaces": [
            {"name": m.name, "path": str(m.path),
             "plugins": [{"name": e.name, "install_id": e.install_id, "installed": e.installed,
                          "source": e.source, "version": e.version} for e in m.entries]}
            for m in plugins.marketplaces
        ],
        "problems": [p.to_json() for p in plugins.problems],
    }


def listing_text(plugins: PluginSet) -> str:
    rows = [("NAME", "VERSION", "SOURCE", "COMMANDS", "SKILLS", "AGENTS", "HOOKS", "COMMIT", "PROBLEMS")]
    for p in plugins.plugins:
        errors = sum(x.is_error for x in p.problems)
        state = f"{errors} error(s), {len(p.problems) - errors} warning(s)" if p.problems else "-"
        if not p.loaded:
            state = "NOT LOADED: " + state
        name = f"{p.name}@{p.marketplace}" if p.marketplace else p.name
        rows.append((name, p.version or "-", p.source.value, str(len(p.commands)), str(len(p.skills)),
                     str(len(p.agents)), str(p.hook_handler_count), p.commit[:12] if p.commit else "-", state))
    lines = _table(rows)
    for market in plugins.marketplaces:
        lines.append(f"\nmarketplace {market.name} ({market.path})")
        for entry in market.entries:
            state = "installed" if entry.installed else "not installed (remote source)"
            lines.append(f"  {entry.install_id}  {state}")
    problems = plugins.all_problems()
    if problems:
        lines.append("")
        lines += [p.format() for p in problems]
    return "\n".join(lines)


def details_text(plugin: Plugin) -> str:
    data = details(plugin)
    lines = [f"{plugin.name} {plugin.version or ''}".rstrip(), f"  source: {plugin.source.value}", f"  root: {plugin.root}"]
    if plugin.commit:
        lines.append(f"  installed from {plugin.marketplace} at commit {plugin.commit}")
    if plugin.description:
        lines.append(f"  {plugin.description}")
    if not plugin.loaded:
        lines.append("  NOT LOADED: the manifest has errors")
    for title in ("commands", "skills", "agents"):
        lines.append(f"{title} ({len(data[title])}):")
        lines += [f"  {item['name']}: {item['description']}" for item in data[title]]
    lines.append(f"hooks ({plugin.hook_handler_count} handlers):")
    lines += [f"  {h['event']} [{h['matcher'] or '*'}]: {h['handlers']} handler(s) from {h['path']}:{h['line']}"
              for h in data["hooks"]]
    if plugin.problems:
        lines.append("problems:")
        lines += [f"  {p.format()}" for p in plugin.problems]
    return "\n".join(lines)


def problem_lines(problems: list[Problem]) -> str:
    return "\n".join(p.format() for p in problems)


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
