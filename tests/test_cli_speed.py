"""The command line parses its arguments before importing the database, the core or a
platform: `qotd --help` and the help of each command import none of them, nor what
listing the plugins used to cost (importlib.metadata, the boundary types, logging).

A behaviour test, not a timing test (the figures are in bench/cli.py): it reads which
modules a fresh `python -X importtime -m bot ...` imported. The quick plugin scan that
replaces importlib.metadata is checked against importlib.metadata itself, here and on
made-up sys.paths.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pytest

from bot import plugins

ROOT = Path(__file__).resolve().parents[1]

# What `--help` must never pay for: the database layer, migrations, the core, the HTTP
# stack and the platform clients.
HEAVY = ("sqlalchemy", "alembic", "aiosqlite", "asyncpg", "discord", "slack_bolt",
         "slack_sdk", "aiohttp", "apscheduler", "prompt_toolkit", "bot.app", "storage")

# What listing the plugins and building their parsers no longer pays for (issue 12):
# importlib.metadata and what it pulls in (email, zipfile, csv), the boundary types
# (dataclasses, inspect) and the console's line language, which only `qotd console
# --help` prints, and logging and datetime, which only running commands use.
UNNEEDED = ("importlib.metadata", "email", "zipfile", "csv", "bot.boundary", "bot.ports",
            "dataclasses", "inspect", "adapters.console.session",
            "adapters.console.language", "logging", "datetime")

HELPS = [
    ["--help"],
    ["import", "--help"],
    ["run", "--help"],
    ["console", "--help"],
    ["db", "upgrade", "--help"],
    ["status", "--help"],
    ["bank", "stats", "--help"],
    ["discord", "--help"],
    ["slack", "--help"],
]


def imported(*args: str) -> tuple[set[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QOTD_")}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    modules = {
        line.rpartition("|")[2].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    modules.discard("imported package")  # the header line
    return modules, done.stdout


def heavy_in(modules: set[str], heavy: tuple[str, ...] = HEAVY) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in heavy))


@pytest.mark.parametrize("args", HELPS, ids=lambda a: " ".join(a))
def test_help_imports_no_database_core_or_platform(args: list[str]) -> None:
    modules, out = imported(*args)
    assert "bot.cli" in modules  # the listing is real: the command line itself is in it
    assert out.startswith("usage: qotd")
    assert heavy_in(modules) == []


@pytest.mark.parametrize("args", [a for a in HELPS if a[0] != "console"],
                         ids=lambda a: " ".join(a))
def test_help_imports_no_plugin_metadata_boundary_or_logging(args: list[str]) -> None:
    modules, _ = imported(*args)
    # The plugins were listed: the discord plugin's commands are in. (The plugin modules
    # themselves are imported by importlib.import_module, which -X importtime does not
    # list; what they import, it does.)
    assert {"bot.plugins", "adapters.discord.cli"} <= modules
    assert heavy_in(modules, UNNEEDED) == []


def test_console_help_still_ends_with_the_console_lines() -> None:
    """Its epilog is imported only when printed: it is there, word for word."""
    from adapters.console.session import HELP

    modules, out = imported("console", "--help")
    assert "adapters.console.session" in modules
    assert out.rstrip().endswith("\n".join(line.rstrip() for line in HELP.splitlines()))


def test_a_database_command_still_imports_the_database(tmp_path: Path) -> None:
    """The control: the listing does show what a command that needs them imports."""
    modules, out = imported("db", "upgrade", "--db", f"sqlite+aiosqlite:///{tmp_path / 'q.db'}")
    assert "latest schema" in out
    assert {"sqlalchemy", "alembic", "storage.migrate"} <= set(heavy_in(modules))


# -- the quick plugin scan -------------------------------------------------------------


def metadata_values(group: str) -> list[tuple[str, str]]:
    return [(ep.name, ep.value) for ep in entry_points(group=group)]


@pytest.mark.parametrize("group", ["qotd.adapters", "console_scripts", "pytest11"])
def test_the_quick_scan_finds_what_importlib_metadata_finds(group: str) -> None:
    quick = plugins._scan(group)
    assert quick is not None  # this install takes the quick path
    assert quick == metadata_values(group)
    assert {"console", "discord", "slack"} <= {n for n, _ in plugins._scan("qotd.adapters")
                                                or []}


def dist(folder: Path, name: str, entry_points_txt: str | None) -> None:
    (folder / name).mkdir(parents=True)
    if entry_points_txt is not None:
        (folder / name / "entry_points.txt").write_text(entry_points_txt, encoding="utf-8")


def test_the_quick_scan_reads_made_up_paths_as_importlib_metadata_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second, cwd = tmp_path / "first", tmp_path / "second", tmp_path / "cwd"
    dist(first, "alpha-1.0.dist-info", "# a comment\nstray = before.any.section\n\n"
         "[qotd.adapters]\nzeta = alpha.zeta:plugin\n  beta=alpha.beta : plugin [extra]\n"
         "[console_scripts]\nalpha = alpha:main\n")
    dist(first, "Beta_Gamma-2.0.dist-info", "[qotd.adapters]\ngamma = bg:plugin\n")
    dist(first, "nothing-1.0.dist-info", None)
    dist(first, "legacy.egg-info", "[qotd.adapters]\nlegacy = legacy:plugin\n")
    (first / "single.egg-info").write_text("Name: single\n", encoding="utf-8")
    (first / "README.txt").write_text("not metadata\n", encoding="utf-8")
    # Shadowed by the first folder's alpha and Beta_Gamma: the first of a name wins.
    dist(second, "alpha-2.0.dist-info", "[qotd.adapters]\nshadowed = alpha2:plugin\n")
    dist(second, "beta.gamma-3.0.dist-info", "[qotd.adapters]\nshadowed2 = bg3:plugin\n")
    dist(second, "delta-1.dist-info", "[[qotd.adapters]]\ndelta = d:plugin\n")
    dist(cwd, "here-1.0.dist-info", "[qotd.adapters]\nhere = here:plugin\n")
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "path", [str(first), "", str(tmp_path / "missing"), str(second)])
    for group in ("qotd.adapters", "console_scripts", "nobody"):
        assert plugins._scan(group) == metadata_values(group)
    assert sorted(plugins.entry_point_values("qotd.adapters")) == [
        ("beta", "alpha.beta : plugin [extra]"), ("delta", "d:plugin"),
        ("gamma", "bg:plugin"), ("here", "here:plugin"), ("legacy", "legacy:plugin"),
        ("zeta", "alpha.zeta:plugin"),
    ]


def test_importlib_metadata_answers_where_its_rules_differ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "site"
    dist(folder, "plain-1.0.dist-info", "[qotd.adapters]\nplain = plain:plugin\n")
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("zipped-1.0.dist-info/entry_points.txt",
                   "[qotd.adapters]\nzipped = zipped:plugin\n")
        z.writestr("zipped-1.0.dist-info/METADATA", "Name: zipped\n")
    monkeypatch.setattr(sys, "path", [str(folder), str(archive)])
    assert plugins._scan("qotd.adapters") is None
    assert plugins.entry_point_values("qotd.adapters") == metadata_values("qotd.adapters")
    assert ("zipped", "zipped:plugin") in plugins.entry_point_values("qotd.adapters")

    monkeypatch.setattr(sys, "path", [str(folder)])
    assert plugins._scan("qotd.adapters") == [("plain", "plain:plugin")]

    class Finder:  # another finder that lists distributions
        @staticmethod
        def find_distributions(*args: object, **kwargs: object) -> list[object]:
            return []

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder])
    assert plugins._scan("qotd.adapters") is None
    assert plugins.entry_point_values("qotd.adapters") == [("plain", "plain:plugin")]


@pytest.mark.parametrize("folder", ["Upper-1.0.DIST-INFO", "-1.0.dist-info"])
def test_a_folder_named_by_its_metadata_is_left_to_importlib_metadata(
    folder: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist(tmp_path, folder, "[qotd.adapters]\nodd = odd:plugin\n")
    (tmp_path / folder / "METADATA").write_text("Name: upper\n", encoding="utf-8")
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    assert plugins._scan("qotd.adapters") is None
    assert plugins.entry_point_values("qotd.adapters") == metadata_values("qotd.adapters")


def test_a_line_importlib_metadata_cannot_read_fails_as_it_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist(tmp_path, "broken-1.0.dist-info", "[other]\nno equals sign here\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    assert plugins._scan("qotd.adapters") is None
    with pytest.raises((ValueError, TypeError)) as theirs:
        metadata_values("qotd.adapters")
    with pytest.raises((ValueError, TypeError)) as ours:
        plugins.entry_point_values("qotd.adapters")
    assert ours.type is theirs.type


@pytest.mark.parametrize("value", ["adapters.console.plugin:plugin", "os.path:join",
                                   "os", "os.path : join [extra]", "os:path.join"])
def test_load_resolves_a_value_as_entry_point_load_does(value: str) -> None:
    assert plugins.load(value) is EntryPoint("x", value, "g").load()


def test_discover_loads_the_installed_plugins_by_name() -> None:
    found = plugins.discover()
    assert [p.name for p in found] == sorted(p.name for p in found)
    assert found == sorted((ep.load() for ep in entry_points(group="qotd.adapters")),
                           key=lambda p: p.name)
