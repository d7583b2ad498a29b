"""MAGNUS_DUMP_STACKS_AFTER: a hanging run prints every thread's stack to stderr; unset or bad: nothing."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap

from magnus_desktop.services.desktop.hangdump import ENV, arm_from_env

_SLOW = textwrap.dedent("""
    import threading, time
    from magnus_desktop.services.desktop.hangdump import arm_from_env
    print(arm_from_env(), flush=True)
    def waits_in_worker():
        time.sleep(1.6)
    t = threading.Thread(target=waits_in_worker, name="worker")
    t.start()
    t.join()
""")


def _run(value: str | None) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: v for k, v in os.environ.items() if k != ENV}
    if value is not None:
        env[ENV] = value
    return subprocess.run([sys.executable, "-c", _SLOW], env=env, capture_output=True, text=True, timeout=60)


def test_a_run_longer_than_the_interval_prints_every_threads_stack() -> None:
    done = _run("0.5")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0.5"
    assert "waits_in_worker" in done.stderr  # the worker thread's frame
    assert "Thread 0x" in done.stderr and done.stderr.count("most recent call first") >= 2


def test_unset_or_invalid_values_arm_nothing() -> None:
    for value in (None, "", "abc", "0", "-3", "nan", "inf"):
        done = _run(value)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "None", value
        assert "most recent call first" not in done.stderr, value


def test_a_stream_without_a_file_descriptor_is_refused() -> None:
    assert arm_from_env({ENV: "30"}, io.StringIO()) is None
