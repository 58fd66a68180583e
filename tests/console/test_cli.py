"""`qotd console --script`, the demo week, and `qotd run` as a newcomer starts it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
WEEK = ROOT / "examples" / "week.qotd"
BANK = ROOT / "examples" / "bank"


def run_week(capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["console", "--as", "alice", "--start", "2027-01-04T07:00Z",
                 "--bank", str(BANK), "--script", str(WEEK)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def block_after(out: str, line: str) -> str:
    """What the channel printed for the script line `line` (up to the next echoed line)."""
    start = out.index(f"> {line}\n") + len(line) + 3
    end = out.find("\n> ", start)
    return out[start:] if end == -1 else out[start:end]


def test_unknown_line_exits_non_zero_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "bad.qotd"
    script.write_text("# fine\nnow\ndance wildly\nnow\n", encoding="utf-8")
    code = main(["console", "--start", "2027-01-04T07:00Z", "--bank", str(BANK),
                 "--script", str(script)])
    out, err = capsys.readouterr()
    assert code == 2
    assert f'{script}:3: unknown command "dance wildly"; try help' in err
    assert out.count("now: Mon 2027-01-04 07:00 UTC") == 1  # stopped before line 4


def test_missing_script_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["console", "--script", "/nonexistent/x.qotd"]) == 2
    assert "/nonexistent/x.qotd: cannot read the script" in capsys.readouterr().err


def test_week_posts_in_order_on_weekdays(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_week(capsys)
    posts = re.findall(r"\[m\d+\] == (Question #\d) ==\nTopic: (\w+) \| Difficulty: (\w+)", out)
    # The demo bank's order is fixed by the seed; Mon..Fri, then Monday after the weekend.
    assert posts == [
        ("Question #1", "Features", "Medium"),    # open
        ("Question #2", "Deployment", "Easy"),    # choice, key B
        ("Question #3", "Monitoring", "Easy"),    # open
        ("Question #4", "Deployment", "Hard"),    # open
        ("Question #5", "Monitoring", "Medium"),  # choice, key B
        ("Question #6", "Features", "Hard"),      # open
    ]
    assert out.rstrip().endswith("now: Mon 2027-01-11 08:00 UTC")


def test_week_reveals(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_week(capsys)
    reveals = re.findall(r"\*\*Results\*\*\n(.*?)\n\n(.*?)\n\nFirst correct: (\w+)", out, re.S)
    assert [(r[0], r[2]) for r in reveals] == [
        ("3 answered, 67% correct.", "alice"),   # Mon: alice yes, bob Hard, carol no
        ("3 answered, 67% correct.", "alice"),   # Tue: alice B, bob A, carol B after a peek
        ("2 answered, 100% correct.", "alice"),  # Wed: carol missed the day
        ("3 answered, 67% correct.", "bob"),     # Thu: alice no, bob yes, carol yes
        ("2 answered, 100% correct.", "alice"),  # Fri: carol votes only after the reveal
    ]
    assert "- A: 1\n- B ✓: 2\n- C: 0" in reveals[1][1]


def test_week_leaderboards_and_streaks(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_week(capsys)
    # all time, easy 1 / medium 2 / hard 3, "hard" grade half, after a peek or reveal 0:
    #   alice: Mon yes 2 + Tue B 1 + Wed yes 1 + Thu no 0 + Fri B 2 + Mon yes 3 = 9
    #   bob:   Mon Hard 2/2=1 + Tue A 0 + Wed Good 1 + Thu yes 3 + Fri B 2 + Mon - = 7
    #   carol: Mon no 0 + Tue B after peek 0 + Wed - + Thu yes 3 + Fri after reveal 0
    #          + Mon yes 3 = 6
    assert block_after(out, "/leaderboard period:all scope:channel").strip() == (
        "== Leaderboard: all time, this channel ==\n"
        "1. alice: 9 pts, streak 6\n"
        "2. bob: 7 pts, streak 5\n"
        "3. carol: 6 pts, streak 3 ← you"
    )
    # this week (from Monday 11th 00:00 Berlin): alice 3, carol 3; tie broken by streak 6 > 3.
    # bob has not answered yet this week.
    assert block_after(out, "/leaderboard period:week").strip() == (
        "== Leaderboard: this week, this channel ==\n"
        "1. alice: 3 pts, streak 6\n"
        "2. carol: 3 pts, streak 3 ← you"
    )
    # streaks count posts: the weekend does not break them; carol's missed Wednesday does
    # (Thu, Fri before the next post, Mon = 3); bob's open Monday post does not break his 5.
    assert "carol: current streak 3, best 3." in block_after(out, "/streak")
    assert "bob: current streak 5, best 5." in block_after(out, "/streak @bob")
    stats = block_after(out, "/qotd stats @bob")
    assert "Attempts: 5" in stats and "Correct: 4 (80%)" in stats


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD", "SLACK"))}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    env["QOTD_CONFIG"] = str(tmp_path / "absent.toml")
    return env


def test_python_m_bot_console_runs_the_week(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--script", str(WEEK)],
        cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "== Question #1 ==" in done.stdout


def test_qotd_run_without_platforms_posts_a_question_and_ends_at_eof(tmp_path: Path) -> None:
    run = [sys.executable, "-m", "bot", "run"]
    first = subprocess.run(run, cwd=tmp_path, env=_env(tmp_path), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "== Question #1 ==" in first.stdout
    assert "no platform is configured" in first.stderr
    # A second start finds the channel set up and does not post again.
    second = subprocess.run(run, cwd=tmp_path, env=_env(tmp_path), stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert "== Question #" not in second.stdout


def test_unreachable_database_is_one_line_without_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "postgresql+asyncpg://qotd:s3cr3t-pw@127.0.0.1:1/qotd"
    assert main(["db", "upgrade", "--db", url]) == 1
    err = capsys.readouterr().err
    assert "postgresql+asyncpg://qotd:***@127.0.0.1:1/qotd failed" in err
    assert "s3cr3t-pw" not in err
    assert "Traceback" not in err


def test_a_bad_setting_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("QOTD_GRACE_HOURS", "0")
    code = main(["db", "upgrade", "--db", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("qotd: setting QOTD_GRACE_HOURS: ") and "Traceback" not in err
    assert not (tmp_path / "x.db").exists()  # nothing was touched


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`qotd bank duplicates | head -1`: the reader leaving is no error worth a traceback
    (nor a database failure)."""
    proc = subprocess.Popen([sys.executable, "-m", "bot", "bank", "duplicates"], cwd=ROOT,
                            env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the first write: every write now meets a broken pipe
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert err == ""


def test_qotd_run_answers_every_bad_line_and_exits_0_at_eof(tmp_path: Path) -> None:
    """The real `qotd run` with no platform credentials (the console fallback) on piped
    stdin: numbers past any range and non-ASCII digits, junk and undecodable bytes get
    a reply each, and the process reads on to the end of its input."""
    lines = ["/answer 99999999999999999999", "/answer ²", "dance wildly", "/", "react B",
             "/qotd schedule timezone:EST", "/answer 1 2"]
    stdin = ("\n".join(lines) + "\n").encode() + b"\xff\xfe junk\n/qotd status\n"
    done = subprocess.run([sys.executable, "-m", "bot", "run"], cwd=tmp_path,
                          env=_env(tmp_path), input=stdin, capture_output=True, timeout=120)
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, err
    assert "Traceback" not in err and "Something went wrong" not in out
    for line in lines:
        assert block_after(out, line).strip(), f"no reply to {line!r}"
    assert block_after(out, "/answer ²").count("number must be a question number") == 1
    assert "number must be a question number" in block_after(out, lines[0])
    assert 'unknown command "dance wildly"' in block_after(out, "dance wildly")
    react = block_after(out, "react B")
    assert "does not count: react" in react or "reacted B" in react
    assert 'unknown command "\ufffd\ufffd junk"' in out
    assert "== Status ==" in block_after(out, "/qotd status")  # it read on to the end
