"""The pip package (pyproject.toml): its facts agree with the manifest and the pins, and `pip install`
gives the three commands, working without the repository on sys.path."""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import site
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

from blender_addon import media
from blender_addon.cli.arguments import sample_folder
from blender_addon.frontend import command_line

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
COMMANDS = ("motion-extract", "motion-live", "motion-join")


def pins(path: Path) -> dict[str, str]:
    """``name: version`` of every ``name==version`` line of a requirements file."""
    found = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", path.read_text(encoding="utf-8"), re.MULTILINE)
    return {name.lower(): version for name, version in found}


def test_the_version_licence_maintainer_and_website_are_the_manifests():
    manifest = tomllib.loads((ROOT / "blender_manifest.toml").read_text(encoding="utf-8"))
    assert PROJECT["version"] == manifest["version"]
    assert [f"SPDX:{PROJECT['license']}"] == manifest["license"]
    author = PROJECT["authors"][0]
    assert f"{author['name']} <{author['email']}>" == manifest["maintainer"]
    assert PROJECT["urls"]["Repository"] == manifest["website"]
    assert PROJECT["requires-python"] == ">=3.11"


def test_the_dependencies_start_at_the_tested_pins():
    pinned = pins(ROOT / "requirements.txt")
    runtime = {re.split(r"[<>=!~]", spec)[0].lower(): spec for spec in PROJECT["dependencies"]}
    assert sorted(runtime) == ["av", "numpy", "opencv-python-headless"]
    for name, spec in runtime.items():
        assert f">={pinned[name]}" in spec, spec
    extras = PROJECT["optional-dependencies"]
    assert extras["dev"] == [f"pytest=={pinned['pytest']}", f"ruff=={pinned['ruff']}"]
    assert extras["plots"] == [f"matplotlib>={pinned['matplotlib']}"]
    assert [spec.split("==")[0] for spec in extras["cluster"]] == ["distributed"]


def test_each_command_is_a_front_ends_main():
    scripts = PROJECT["scripts"]
    assert sorted(scripts) == sorted(COMMANDS)
    for command, target in scripts.items():
        module, _, name = target.partition(":")
        function = getattr(importlib.import_module(module), name)
        assert callable(function) and (module, name) == ("blender_addon.commands", command.replace("-", "_")), command


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_starts_the_process_before_numpy(command):
    """Every installed command gives numpy's OpenBLAS one thread (``commands.start_process``) before numpy is
    imported, as the scripts beside the package do, unless the environment asks for more."""
    module, _, name = PROJECT["scripts"][command].partition(":")
    code = (
        "import importlib, os, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from blender_addon import commands\n"
        "started = []\n"
        "start = commands.start_process\n"
        "commands.start_process = lambda: (started.append('numpy' in sys.modules), start())\n"
        f"function = getattr(importlib.import_module({module!r}), {name!r})\n"
        f"sys.argv = [{command!r}, '--help']\n"
        "try:\n"
        "    function()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(started, os.environ.get('OPENBLAS_NUM_THREADS'), file=sys.stderr)\n"
    )
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS", "PYTHONPATH")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env=environment, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "[False] 1", result.stderr


def test_motion_extract_serves_cluster_renders(monkeypatch):
    """The installed ``motion-extract`` is the command line composed with the cluster front end, as the script is."""
    from blender_addon import cli, cluster, commands

    heard = {}
    monkeypatch.setattr(commands, "settle_process", lambda: heard.setdefault("settled", "cluster" not in heard))
    monkeypatch.setattr(cli, "main", lambda argv=None, cluster=None: heard.setdefault("cluster", cluster) and 0)
    commands.motion_extract()
    assert heard["cluster"] is commands.run_on_cluster
    assert heard["settled"] is True  # before the command line runs
    monkeypatch.setattr(cluster, "run_requests", lambda *args, **kwargs: ("cluster", args, kwargs))
    assert commands.run_on_cluster(1, two=2) == ("cluster", (1,), {"two": 2})


def test_a_command_run_as_installed_reads_and_records_its_own_arguments(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/venv/bin/motion-extract", "in.mkv", "-o", "out.mkv"])
    assert command_line(None, "motion_extract.py") == (["in.mkv", "-o", "out.mkv"],
                                                       ["motion-extract", "in.mkv", "-o", "out.mkv"])
    arguments, command = command_line(["in.mkv"], "motion_extract.py")  # as the script beside the package calls it
    assert arguments == ["in.mkv"] and command == ["python", str(ROOT / "scripts" / "motion_extract.py"), "in.mkv"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with the package installed by pip from a copy of only what it is built from (no
    build files in the repository); its dependencies are reached through a .pth of this venv's packages."""
    work = tmp_path_factory.mktemp("package")
    source = work / "source"
    source.mkdir()
    shutil.copy(ROOT / "pyproject.toml", source)
    shutil.copy(ROOT / "README.md", source)
    shutil.copytree(ROOT / "blender_addon", source / "blender_addon", ignore=shutil.ignore_patterns("__pycache__"))
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    result = subprocess.run([python, "-m", "pip", "install", "--no-deps", "-q", str(source)],
                            capture_output=True, text=True, timeout=600)
    if result.returncode and re.search(r"No matching distribution|Could not find a version|NewConnectionError",
                                       result.stderr):
        pytest.skip(f"no package index for the build backend: {result.stderr.strip().splitlines()[-1]}")
    assert result.returncode == 0, result.stderr
    own_packages = subprocess.run([python, "-c", "import site; print(site.getsitepackages()[0])"],
                                  capture_output=True, text=True, check=True).stdout.strip()
    Path(own_packages, "shared_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return env_dir


def run(env_dir: Path, command: str, *args: str | Path, cwd: Path, **variables: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"} | variables
    return subprocess.run([env_dir / "bin" / command, *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env=environment)


def test_pip_install_gives_the_commands(installed, tmp_path):
    for command in COMMANDS:
        result = run(installed, command, "--help", cwd=tmp_path)
        assert result.returncode == 0 and result.stdout.startswith("usage:"), (command, result.stderr)
    where = run(installed, "python", "-c", "import blender_addon; print(blender_addon.__file__)", cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(installed), where.stdout


def test_the_installed_command_renders(installed, tmp_path, small_clip):
    clip = tmp_path / "clip.mkv"
    with media.open_writer(clip, small_clip.fps, small_clip.width, small_clip.height) as writer:
        for index in range(4):
            writer.write(small_clip.frame(index))
    result = run(installed, "motion-extract", clip, "-o", "motion.mkv", "--data", "motion.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "wrote motion.mkv"
    assert media.open_source(tmp_path / "motion.mkv").frame_count == 4
    record = json.loads((tmp_path / "motion.csv.json").read_text())
    assert record["command"] == ["motion-extract", str(clip), "-o", "motion.mkv", "--data", "motion.csv"]


def test_sample_clips_stay_in_a_checkout_or_go_to_the_users_cache(tmp_path, monkeypatch):
    assert sample_folder(ROOT) == ROOT / ".cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert sample_folder(tmp_path / "site-packages") == tmp_path / "cache" / "motion-extraction"


def test_the_installed_command_keeps_the_sample_clip_in_the_users_cache(installed, tmp_path):
    environment = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = run(installed, "motion-extract", "--sample", "-o", "sample.mkv", "--frames", "0:2", cwd=tmp_path,
                 **environment)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cache" / "motion-extraction" / "sample_clip.mkv").is_file()
    assert not list(installed.glob("lib/python3*/site-packages/.cache"))


def test_the_package_holds_the_whole_add_on_and_nothing_else(installed):
    record = next(installed.glob("lib/python3*/site-packages/motion_extraction-*.dist-info/RECORD"))
    files = {line.split(",")[0] for line in record.read_text().splitlines()}
    package = {path.relative_to(ROOT).as_posix() for path in (ROOT / "blender_addon").rglob("*")
               if path.is_file() and "__pycache__" not in path.parts}
    assert package <= files
    tops = {name.split("/")[0] for name in files if not name.startswith("..")}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"blender_addon"}
