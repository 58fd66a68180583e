"""The real `qotd run` process: how it ends is what a supervisor (systemd, Docker,
Kubernetes) sees. A failure is a non-zero status and one line naming the adapter and the
cause; SIGTERM is a clean 0; a transient failure is restarted, in the same process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from bot.settings import CoreSettings
from tests.runtime.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def env_for(settings: CoreSettings, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DISCORD", "SLACK", "QOTD_HEALTH"))}
    env.update(DATABASE_URL=settings.database_url, QOTD_BANK_DIR=settings.bank_dir,
               QOTD_CONFIG=str(tmp_path / "absent.toml"), PYTHONPATH=str(ROOT), **extra)
    return env


def probe_run(settings: CoreSettings, tmp_path: Path,
              lines: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tests.runtime.qotd_with", "run"],
                          cwd=ROOT, env=env_for(settings, tmp_path), input=lines,
                          capture_output=True, text=True, timeout=120)


def levels(stderr: str, level: str) -> list[str]:
    marker = f" {level} bot.cli_core: "
    return [line.split(marker, 1)[1] for line in stderr.splitlines() if marker in line]


def test_a_fatal_adapter_failure_exits_1_with_one_line(
    run_settings: CoreSettings, tmp_path: Path
) -> None:
    done = probe_run(run_settings, tmp_path,
                     "fatal the token was revoked; set PROBE_TOKEN to a new one\n")
    assert done.returncode == 1, done.stderr
    assert levels(done.stderr, "CRITICAL") == [
        "adapter probe failed: the token was revoked; set PROBE_TOKEN to a new one; exiting"]
    assert "Traceback" not in done.stderr
    assert " stopped\n" not in done.stderr  # the clean-stop line is for clean stops only


def test_a_transient_failure_is_restarted_in_the_same_process(
    run_settings: CoreSettings, tmp_path: Path
) -> None:
    """An exception escaping the client: restarted after 1 s; then end of input is a
    normal end (status 0)."""
    done = probe_run(run_settings, tmp_path, "crash the websocket task died\n")
    assert done.returncode == 0, done.stderr
    assert levels(done.stderr, "WARNING") == [
        "adapter probe stopped: RuntimeError: the websocket task died; restarting in 1 s"]
    assert done.stderr.count("probe started") == 2
    assert "Traceback" not in done.stderr


def test_sigterm_stops_the_console_fallback_cleanly(
    run_settings: CoreSettings, tmp_path: Path
) -> None:
    """`qotd run` with no platform (the console on a stdin pipe that stays open), up and
    healthy, then SIGTERM as a supervisor sends it: status 0 and the "stopped" line."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], cwd=tmp_path,
        env=env_for(run_settings, tmp_path, QOTD_HEALTH_PORT=str(port)),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    watchdog = threading.Timer(90, proc.kill)  # a hang fails the test instead of the run
    watchdog.start()
    try:
        deadline = time.monotonic() + 60
        body = ""
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(0.05)
        assert '"console": true' in body, body
        assert proc.stdout is not None
        for line in proc.stdout:  # the first question is out: no command in flight
            if "Question #1" in line:
                break
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert err.rstrip().endswith("INFO bot.cli_core: stopped"), err
    assert "Traceback" not in err


@pytest.mark.parametrize("url", ["mysql://qotd:s3cr3t@db/qotd",
                                 "postgresql+psycopg2://qotd:s3cr3t@db/qotd"])
def test_an_unsupported_database_url_is_one_line_and_status_2(
    run_settings: CoreSettings, tmp_path: Path, url: str
) -> None:
    env = env_for(run_settings, tmp_path)
    env["DATABASE_URL"] = url
    done = subprocess.run([sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("qotd: setting DATABASE_URL: unsupported database URL")
    assert "postgres://" in line and "sqlite:///" in line and "s3cr3t" not in line
