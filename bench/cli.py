"""Start-up of the command line: the median wall time of `qotd --help` (and of the help of
the commands people type most) next to the interpreter's own start-up, in the same run.

    .venv/bin/python bench/cli.py [--runs 15]

Each figure is a fresh process, timed from spawn to exit, with bytecode compiled as an
installed package has it (into a temporary PYTHONPYCACHEPREFIX by one warm-up run, so
the checkout is left as it was). `python -c pass` is the floor
no Python command line can go under; `python -c "import argparse"` is what any argparse
tool pays. The goal (issue 12) is `qotd --help` within 150 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_MS = 150.0


@dataclass(frozen=True)
class Figure:
    label: str
    median_ms: float  # wall time, spawn to exit
    cpu_ms: float  # the child's user + system time: steadier on a shared machine
    runs: int


def qotd_command() -> list[str]:
    """The installed console script next to this interpreter, else `python -m bot`."""
    script = Path(sys.executable).with_name("qotd")
    if script.exists():
        return [str(script)]
    found = shutil.which("qotd")
    return [found] if found else [sys.executable, "-m", "bot"]


def timed_ms(argv: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    """Median wall and CPU milliseconds; the first run (compiling, warming the page cache)
    is dropped."""
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        child = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        walls.append((time.perf_counter() - start) * 1000)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited with {child.returncode}")
        cpus.append((usage.ru_utime + usage.ru_stime) * 1000)
    return statistics.median(walls[1:]), statistics.median(cpus[1:])


def measure(runs: int = 15, *, from_source: bool = False) -> list[Figure]:
    """Each command's runs back to back, after one dropped warm-up run. `from_source`
    runs `python -m bot` in this checkout instead of the installed `qotd` script."""
    qotd = [sys.executable, "-m", "bot"] if from_source else qotd_command()
    return timed([
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ('python -c "import argparse"', [sys.executable, "-c", "import argparse"]),
        ("qotd --help", [*qotd, "--help"]),
        ("qotd run --help", [*qotd, "run", "--help"]),
        ("qotd import --help", [*qotd, "import", "--help"]),
    ], runs)


def help_against_floor(runs: int = 15) -> tuple[Figure, Figure]:
    """`python -c pass` and `qotd --help`, timed as measure() times them: for
    bench/million.py's [command line] row, so that both benches time the same thing
    (with PYTHONDONTWRITEBYTECODE, every run would also compile the checkout's modules,
    which no installed copy does after its first start)."""
    floor, helped = timed([("python -c pass", [sys.executable, "-c", "pass"]),
                           ("qotd --help", [*qotd_command(), "--help"])], runs)
    return floor, helped


def timed(cases: list[tuple[str, list[str]]], runs: int) -> list[Figure]:
    """Each case's runs, bytecode compiled once into a temporary PYTHONPYCACHEPREFIX."""
    with tempfile.TemporaryDirectory(prefix="qotd-bench-pyc-") as pyc:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = pyc
        return [Figure(label, *timed_ms(argv, runs, env), runs) for label, argv in cases]


def report(figures: list[Figure]) -> list[str]:
    base, base_cpu = figures[0].median_ms, figures[0].cpu_ms
    lines = [f"cli start-up, median of {figures[0].runs} runs each ({os.cpu_count()} cores); "
             "wall (ratio to python -c pass), CPU (ratio)"]
    for f in figures:
        ratio = f.median_ms / base if base else float("nan")
        cpu_ratio = f.cpu_ms / base_cpu if base_cpu else float("nan")
        goal = ""
        if f.label.startswith("qotd"):
            goal = f"  goal <= {GOAL_MS:.0f} ms: {'met' if f.median_ms <= GOAL_MS else 'NOT met'}"
        lines.append(f"  {f.label:<28} {f.median_ms:7.1f} ms ({ratio:5.2f}x)  "
                     f"cpu {f.cpu_ms:6.1f} ms ({cpu_ratio:5.2f}x){goal}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=15, help="runs per command (default: 15)")
    parser.add_argument("--from-source", action="store_true",
                        help="time `python -m bot` in this checkout, not the installed script")
    args = parser.parse_args(argv)
    print("\n".join(report(measure(args.runs, from_source=args.from_source))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
