#!/usr/bin/env python3
"""The project's two commands, on any machine with Python 3.11+.

    python3 dev.py run    install everything, load the demo, start every process
    python3 dev.py test   install everything, run the whole test suite

Everything goes into .venv; the install step is skipped while the requirement
files are unchanged. Unless DATABASE_URL / CELERY_BROKER_URL are set, both
commands start a PostgreSQL and a Redis (Valkey) of this copy, from the
installed packages, with their data in var/, and stop them when they end.
"""

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
REQUIREMENTS = [ROOT / "requirements.txt", ROOT / "requirements-dev.txt"]
STAMP = VENV / ".requirements.sha256"

# The HubRise sandbox's demo client; used whenever no real HubRise app is configured.
SANDBOX_PORT = os.environ.get("HUBRISE_SANDBOX_PORT", "8765")
SANDBOX_DEFAULTS = {
    "HUBRISE_API_URL": f"http://127.0.0.1:{SANDBOX_PORT}/v1",
    "HUBRISE_OAUTH_URL": f"http://127.0.0.1:{SANDBOX_PORT}/oauth2/v1",
    "HUBRISE_CLIENT_ID": "getresto-demo.clients.hubrise.com",
    "HUBRISE_CLIENT_SECRET": "getresto-demo-secret",
    # The sandbox runs on this machine and can reach our webhook on localhost.
    "HUBRISE_CALLBACK_MODE": "active",
}


def ensure_installed() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 (dev.py may be started by an older Python)
        sys.exit("Python 3.11 or newer is needed.")
    if not PYTHON.exists():
        print("Creating the virtual environment in .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in REQUIREMENTS)).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    print("Installing dependencies …", flush=True)
    pip = [PYTHON, "-m", "pip", "--disable-pip-version-check"]
    # uv installs the hundred packages in seconds where pip takes one to several minutes
    # (measured: 10 s against 81 s); pip, with its own progress, stays the fallback.
    if subprocess.run([*pip, "install", "-q", "uv"], check=False).returncode == 0:
        install = [BIN / "uv", "pip", "install", "--python", PYTHON]
    else:
        install = [*pip, "install", "--progress-bar", "off"]
    subprocess.run([*install, "-r", ROOT / "requirements-dev.txt"], check=True)
    STAMP.write_text(digest)


def child_env(**defaults: str) -> dict[str, str]:
    env = {**defaults, **os.environ}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(VENV)
    return env


@contextlib.contextmanager
def embedded_services(env: dict[str, str], environment: str):
    """An embedded PostgreSQL and Redis for whichever of DATABASE_URL and CELERY_BROKER_URL is unset, stopped at the end."""
    from getresto import embedded

    var_dir = Path(env.get("GETRESTO_VAR_DIR") or ROOT / "var")
    missing = [name for name in ("DATABASE_URL", "CELERY_BROKER_URL") if not env.get(name)]
    with embedded.running(var_dir, postgres="DATABASE_URL" in missing, valkey="CELERY_BROKER_URL" in missing):
        urls = embedded.urls(var_dir, environment)
        env.update({name: urls[name] for name in missing})
        yield


def supervise(command: list, env: dict[str, str]) -> int:
    """Runs ``command`` to its end, so that nothing it started outlives dev.py.

    Ctrl+C reaches the command directly (same terminal), SIGTERM and SIGHUP are passed on to
    it as a Ctrl+C, and dev.py waits while it stops its own processes. On Linux the command
    also gets that Ctrl+C if dev.py is killed outright, and whatever it leaves behind (a test's
    gunicorn after pytest was killed, say) is adopted by dev.py and stopped here.
    """
    linux = sys.platform == "linux"
    if linux:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans of the command come to us

    def interrupt_if_parent_dies() -> None:
        libc.prctl(1, signal.SIGINT, 0, 0, 0)  # PR_SET_PDEATHSIG

    # preexec_fn is unsafe only in a process with threads, which dev.py never starts.
    child = subprocess.Popen(command, cwd=ROOT, env=env, preexec_fn=interrupt_if_parent_dies if linux else None)
    handlers = {
        signal.SIGINT: lambda *_: None,
        signal.SIGTERM: lambda *_: child.send_signal(signal.SIGINT),
        signal.SIGHUP: lambda *_: child.send_signal(signal.SIGINT),
    }
    previous = {number: signal.signal(number, handler) for number, handler in handlers.items()}
    try:
        return child.wait()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if linux:
            stop_orphans()


def stop_orphans() -> None:
    import psutil

    orphans = psutil.Process().children(recursive=True)
    for orphan in orphans:
        with contextlib.suppress(psutil.NoSuchProcess):
            orphan.terminate()
    _gone, alive = psutil.wait_procs(orphans, timeout=10)
    for orphan in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            orphan.kill()


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


# Under `run`, the web's access log (a line per live refresh, every 3 s per open screen) and the
# worker's and beat's logs go to files, so that the logins and the API key stay readable on screen.
# A worker with threads rather than processes stops at once on Ctrl+C, without complaining.
LOG_DIR = ROOT / "var" / "log"
QUIET_DEFAULTS = {
    "WEB_ACCESS_LOG": str(LOG_DIR / "web-access.log"),
    "STREAM_ACCESS_LOG": str(LOG_DIR / "stream-access.log"),
    "CELERY_WORKER_LOG": str(LOG_DIR / "worker.log"),
    "CELERY_BEAT_LOG": str(LOG_DIR / "beat.log"),
    "CELERY_POOL": "threads",
}


def run() -> int:
    uses_sandbox = not os.environ.get("HUBRISE_CLIENT_ID")
    defaults = {"GETRESTO_ENV": "development", "WHITENOISE_USE_FINDERS": "true", **QUIET_DEFAULTS}
    if uses_sandbox:
        defaults |= SANDBOX_DEFAULTS
    defaults["PUBLIC_URL"] = f"http://127.0.0.1:{os.environ.get('WEB_PORT', '8000')}"
    # The open screens' streams answer on a port of their own (no reverse proxy here).
    defaults["LIVE_STREAM_URL"] = f"http://127.0.0.1:{os.environ.get('STREAM_PORT', '8001')}"
    env = child_env(**defaults)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with embedded_services(env, env["GETRESTO_ENV"]):
        print("Migrating the database and loading the demo …", flush=True)
        manage(env, "migrate", "--no-input", "-v", "0")
        manage(env, "seed_demo")
        if uses_sandbox:
            # The sandbox also runs a virtual kitchen printer: the demo's orders come out on its page.
            manage(env, "seed_demo_printer")
        processes = ["web", "stream", "worker", "beat"] + (["sandbox"] if uses_sandbox else [])
        port = env.get("WEB_PORT", "8000")
        print(f"\n  Back office : http://127.0.0.1:{port}/", flush=True)
        if uses_sandbox:
            print(f"  HubRise sandbox : http://127.0.0.1:{SANDBOX_PORT}/", flush=True)
            print(f"  Kitchen printer : http://127.0.0.1:{SANDBOX_PORT}/printers", flush=True)
        print(f"  Logs of the web requests, the worker and beat: {LOG_DIR.relative_to(ROOT)}/", flush=True)
        print("  Stop everything with Ctrl+C.\n", flush=True)
        return supervise([BIN / "honcho", "start", *processes], env)


# Processes running the suite side by side (pytest-xdist). Most of a test's time is spent waiting on the
# processes it starts (gunicorn, Celery, Chromium, the sandbox), so more of them than cores still gain.
TEST_PROCESSES = "3"


def pytest_command(args: list[str]) -> list[str]:
    """pytest in parallel processes, unless the arguments say how many (``-n 0``: in this process alone)."""
    told = any(arg.startswith(("-n", "--numprocesses")) for arg in args)
    return [str(PYTHON), "-m", "pytest", *([] if told else ["-n", TEST_PROCESSES]), *args]


def test(args: list[str]) -> int:
    env = child_env()
    with embedded_services(env, "test"):
        return supervise(pytest_command(args), env)


def main() -> int:
    command, *rest = sys.argv[1:] or ["help"]
    if command not in {"run", "test"}:
        print(__doc__)
        return 0 if command == "help" else 2
    ensure_installed()
    if Path(sys.prefix).resolve() != VENV.resolve():
        # Go on inside .venv, where the packages of the embedded servers are.
        os.execv(PYTHON, [str(PYTHON), str(ROOT / "dev.py"), *sys.argv[1:]])
    try:
        return run() if command == "run" else test(rest)
    except KeyboardInterrupt:  # before the processes started; the servers are stopped by then
        return 130


if __name__ == "__main__":
    sys.exit(main())
