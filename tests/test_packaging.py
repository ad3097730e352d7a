"""The bundled plugin "skillway" is found both in a source checkout and in a built wheel.

One wheel is built per test session (module-scoped fixture) with `python -m build --wheel
--no-isolation`, into a tmp folder; it is then unpacked and run with PYTHONPATH pointing at it,
so it shadows the editable install.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BUNDLED = "skillway/_bundled"
COMPONENT_FOLDERS = ("manifest", "skills", "commands", "agents", "hooks")


def isolated_env(home: Path, pythonpath: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["SKILLWAY_CONFIG_DIR"] = str(home / "config")
    env["SKILLWAY_DATA_DIR"] = str(home / "data")
    env.pop("SKILLWAY_PLUGIN_DIRS", None)
    env["PYTHONPATH"] = str(pythonpath)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_python(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=300)


def source_files(folder: str) -> set[str]:
    """Files of a component folder in the checkout, as paths inside the wheel."""
    root = REPO_ROOT / folder
    return {f"{BUNDLED}/{path.relative_to(REPO_ROOT).as_posix()}" for path in root.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    for module in ("hatchling", "build"):
        if importlib.util.find_spec(module) is None:
            pytest.fail(f"{module!r} is not importable: the wheel test builds with --no-isolation and needs it "
                        f"installed (pip install -e '.[test]' and hatchling)")
    outdir = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(outdir)],
        cwd=REPO_ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert result.returncode == 0, f"wheel build failed:\n{result.stdout}\n{result.stderr}"
    wheels = list(outdir.glob("skillway-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def wheel_names(wheel) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


@pytest.fixture(scope="module")
def unpacked(wheel, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("unpacked").resolve()
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(folder)
    return folder


@pytest.fixture
def wheel_env(unpacked, tmp_path) -> dict[str, str]:
    return isolated_env(tmp_path / "user", unpacked)


@pytest.fixture
def workdir(tmp_path) -> Path:
    folder = tmp_path / "cwd"
    folder.mkdir()
    return folder


# --- source tree -----------------------------------------------------------------------------


def test_source_tree_bundled_root_is_repo_root(tmp_path, workdir):
    code = "from skillway.plugins.bundled import bundled_plugin_root; print(bundled_plugin_root())"

    result = run_python(["-c", code], workdir, isolated_env(tmp_path / "user", REPO_ROOT / "server"))

    assert (result.returncode, result.stdout.strip()) == (0, str(REPO_ROOT)), result.stderr


def test_repo_root_has_bundled_manifest():
    assert (REPO_ROOT / "manifest" / "plugin.json").is_file()


# --- wheel contents --------------------------------------------------------------------------


def test_wheel_contains_bundled_manifest(wheel_names):
    assert f"{BUNDLED}/manifest/plugin.json" in wheel_names


def test_wheel_contains_a_skill_md_for_every_skill(wheel_names):
    expected = {f"{BUNDLED}/skills/{path.parent.name}/SKILL.md" for path in (REPO_ROOT / "skills").glob("*/SKILL.md")}

    assert {name for name in wheel_names if name.startswith(f"{BUNDLED}/skills/") and name.count("/") == 4
            and name.endswith("/SKILL.md")} == expected


def test_wheel_contains_bundled_hooks_file(wheel_names):
    assert f"{BUNDLED}/hooks/hooks.json" in wheel_names


@pytest.mark.parametrize("folder", COMPONENT_FOLDERS)
def test_wheel_contains_every_file_of_component_folder(wheel_names, folder):
    inside = {name for name in wheel_names if name.startswith(f"{BUNDLED}/{folder}/")}

    assert inside == source_files(folder)


# --- running from the wheel ------------------------------------------------------------------


def test_wheel_install_finds_bundled_plugin_inside_package(unpacked, wheel_env, workdir):
    result = run_python(["-m", "skillway", "plugins", "list", "--json"], workdir, wheel_env)

    assert result.returncode == 0, result.stderr
    bundled = next(p for p in json.loads(result.stdout)["plugins"] if p["name"] == "skillway")
    assert (Path(bundled["root"]), bundled["source"]) == (unpacked / "skillway" / "_bundled", "bundled")


def test_wheel_install_loads_every_bundled_component(wheel_env, workdir):
    result = run_python(["-m", "skillway", "plugins", "list", "--json"], workdir, wheel_env)

    bundled = next(p for p in json.loads(result.stdout)["plugins"] if p["name"] == "skillway")
    assert {k: bundled[k] for k in ("loaded", "commands", "agents", "errors")} == {
        "loaded": True, "commands": 5, "agents": 4, "errors": 0}
    assert bundled["skills"] >= 6


def test_wheel_hook_scripts_import_the_packages_own_ship_rules(unpacked, workdir):
    # As a host runs them: plain python3, no PYTHONPATH and no site-packages (-I -S), nothing but the
    # unpacked wheel. The script finds skillway.ship.rules two folders above the bundled plugin.
    hooks = unpacked / BUNDLED / "hooks"
    call = {"hook_event_name": "PreToolUse", "tool_name": "Agent", "agent_id": "a1", "agent_type": "skillway:code-reviewer",
            "tool_input": {"prompt": "x", "subagent_type": "test-engineer"}}
    result = subprocess.run([sys.executable, "-I", "-S", str(hooks / "ship-delegation.py")], input=json.dumps(call),
                            cwd=workdir, env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["hookSpecificOutput"]["permissionDecision"] == "deny"
    code = f"import sys; sys.path.insert(0, {str(unpacked)!r}); import skillway.ship.rules as r; print(r.__file__)"
    found = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=60)
    assert found.stdout.strip() == str(unpacked / "skillway" / "ship" / "rules.py"), found.stderr


def test_wheel_install_validates_against_bundled_schemas(wheel_env, workdir):
    manifest = workdir / "badplug" / ".claude-plugin" / "plugin.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text('{\n  "name": "badplug",\n  "keywords": "x"\n}\n', encoding="utf-8")

    result = run_python(["-m", "skillway", "plugins", "validate", "badplug"], workdir, wheel_env)

    assert (result.returncode, result.stdout) == (
        1, f'{manifest.resolve()}:3:3: error: "keywords" must be an array, got a string\n'
           "1 plugin, 1 error, 0 warnings\n")
