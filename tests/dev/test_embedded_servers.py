"""The PostgreSQL and Valkey that dev.py embeds: started, shared, stopped, and taken over after a kill.

Each command here is a process of its own holding the servers of one var folder, as
``dev.py`` does, and is stopped as a person or a machine would stop it: Ctrl+C, or
SIGKILL. What must hold: no server is left once the last command is gone, and the
next start works whatever the previous one left behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg2
import pytest
import redis

from getresto import embedded
from getresto.test_settings import SHIFTED
from tests.processes import REPO_ROOT, repository_env, wait_until

HOLD_SERVERS = """
import sys, time
from pathlib import Path
from getresto import embedded
with embedded.running(Path(sys.argv[1])):
    print("ready", flush=True)
    time.sleep(300)
"""


@pytest.fixture(scope="module")
def var_dir() -> Iterator[Path]:
    # Short: the PostgreSQL socket's path must fit in 107 bytes.
    folder = Path(tempfile.mkdtemp(prefix="gr-embedded-")) / "var"
    yield folder
    for process in processes_in(folder):
        with contextlib.suppress(psutil.Error):
            process.kill()
    shutil.rmtree(folder.parent, ignore_errors=True)


class Command:
    """A process holding the servers of ``var_dir`` until it is stopped."""

    def __init__(self, var_dir: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLD_SERVERS, str(var_dir)],
            cwd=REPO_ROOT,
            env=repository_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output = ""
        for line in self.process.stdout:
            self.output += line
            if line == "ready\n":
                return
        raise AssertionError(f"the command did not start the servers:\n{self.output}")

    def interrupt(self) -> None:
        """Ctrl+C."""
        self.process.send_signal(signal.SIGINT)
        # Stopping may take each server's whole stop timeout (Valkey, then PostgreSQL), with slack for a loaded machine.
        try:
            code = self.process.wait(timeout=2 * embedded.STOP_TIMEOUT + 30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(
                f"Ctrl+C did not end the command; it printed:\n{self.output}{self.process.stdout.read()}"
            ) from None
        assert code != 0

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


def processes_in(var_dir: Path) -> list[psutil.Process]:
    """Every live process working inside ``var_dir``: both servers work in their own folder there."""
    found = []
    for process in psutil.process_iter(["cwd", "status"]):
        cwd = process.info["cwd"]
        if cwd and Path(cwd).is_relative_to(var_dir) and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(process)
    return found


def serving(var_dir: Path) -> bool:
    urls = embedded.urls(var_dir, "development")
    database = psycopg2.connect(urls["DATABASE_URL"], connect_timeout=5)
    with contextlib.closing(database) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return redis.Redis.from_url(urls["CELERY_BROKER_URL"], socket_connect_timeout=2).ping()


def all_stopped(var_dir: Path) -> bool:
    return not processes_in(var_dir)


def test_a_command_stopped_with_ctrl_c_stops_both_servers_and_the_next_one_starts_them_again(var_dir):
    command = Command(var_dir)
    assert serving(var_dir)
    command.interrupt()
    assert all_stopped(var_dir)

    command = Command(var_dir)
    assert serving(var_dir)
    command.interrupt()
    assert all_stopped(var_dir)


def test_commands_running_at_once_share_the_servers_until_the_last_one_leaves(var_dir):
    first, second = Command(var_dir), Command(var_dir)
    assert "sharing it" in second.output
    first.interrupt()
    assert serving(var_dir), "the second command still uses them"
    second.interrupt()
    assert all_stopped(var_dir)


def test_after_a_command_is_killed_outright_the_next_one_takes_its_servers_over_and_stops_them(var_dir):
    Command(var_dir).kill()
    assert serving(var_dir), "a killed command cannot stop them"

    command = Command(var_dir)
    assert "sharing it" in command.output
    command.interrupt()
    assert all_stopped(var_dir)


def test_pid_files_of_servers_that_died_do_not_stop_the_next_start(var_dir):
    command = Command(var_dir)
    for process in processes_in(var_dir):
        process.kill()
    command.kill()
    wait_until(lambda: all_stopped(var_dir), what="the servers to die")
    # After a reboot their pids may belong to other programs: say, this one.
    for pid_file in (var_dir / "postgres" / "postmaster.pid", var_dir / "valkey" / "valkey.pid"):
        lines = pid_file.read_text().splitlines()
        pid_file.write_text("\n".join([str(os.getpid()), *lines[1:]]) + "\n")

    command = Command(var_dir)
    assert serving(var_dir)
    command.interrupt()
    assert all_stopped(var_dir)


@pytest.fixture
def waiting_tests(tmp_path: Path) -> Path:
    """A test file whose one test says it started, then waits: a test run to interrupt or kill."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_waits.py").write_text(
        "import os, pathlib, time\n\n"
        "def test_waits():\n"
        "    pathlib.Path(os.environ['STARTED']).write_text(str(os.getpid()))\n"
        "    time.sleep(120)\n"
    )
    return tmp_path


def started_pid(folder: Path) -> str:
    """The waiting test's pid once it has written it ("" before: the file exists a moment before its content)."""
    path = folder / "started"
    return path.read_text() if path.exists() else ""


def dev_py_test(var_dir: Path, folder: Path, *args: str) -> subprocess.Popen:
    """``python3 dev.py test`` on a machine without DATABASE_URL / CELERY_BROKER_URL, the servers in ``var_dir``."""
    # As typed in a terminal: none of this run's services, nor of its parallel processes.
    env = {
        name: value
        for name, value in repository_env().items()
        if name not in {"DATABASE_URL", "CELERY_BROKER_URL", SHIFTED} and not name.startswith("PYTEST_XDIST")
    }
    # The waiting test needs none of the suite's plugins but the one running it in parallel, as dev.py does.
    env.update(GETRESTO_VAR_DIR=str(var_dir), STARTED=str(folder / "started"), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    return subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "dev.py"), "test", "-q", "-p", "xdist.plugin", *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Its own process group, as a terminal gives a command: Ctrl+C reaches the whole group.
        start_new_session=True,
    )


def test_dev_py_test_stopped_with_ctrl_c_leaves_no_server(var_dir, waiting_tests):
    run = dev_py_test(var_dir, waiting_tests, str(waiting_tests))
    wait_until(lambda: started_pid(waiting_tests), timeout=60, what="the tests to start")
    assert serving(var_dir)

    os.killpg(run.pid, signal.SIGINT)
    output, _ = run.communicate(timeout=60)
    assert "KeyboardInterrupt" in output
    assert all_stopped(var_dir)


def test_after_dev_py_is_killed_outright_its_tests_stop_and_the_next_run_works(var_dir, waiting_tests):
    run = dev_py_test(var_dir, waiting_tests, str(waiting_tests))
    wait_until(lambda: started_pid(waiting_tests), timeout=60, what="the tests to start")
    tests = psutil.Process(int(started_pid(waiting_tests)))

    run.kill()
    run.wait()
    wait_until(lambda: not tests.is_running() or tests.status() == psutil.STATUS_ZOMBIE, what="the tests to stop")
    assert serving(var_dir), "killed, dev.py could not stop them"

    again = dev_py_test(var_dir, waiting_tests, "--version")
    output, _ = again.communicate(timeout=60)
    assert again.returncode == 0, output
    assert "sharing it" in output
    assert all_stopped(var_dir)
