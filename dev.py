#!/usr/bin/env python3
"""The project's two commands, on any machine with Python 3.11+.

    python3 dev.py run    install everything, load the demo, start every process
    python3 dev.py test   install everything, run the whole test suite

Everything goes into .venv; the install step is skipped while the requirement
files are unchanged.
"""

import hashlib
import os
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
    subprocess.run([PYTHON, "-m", "pip", "install", "-qq", "--upgrade", "pip"], check=True)
    subprocess.run([PYTHON, "-m", "pip", "install", "-qq", "-r", ROOT / "requirements-dev.txt"], check=True)
    STAMP.write_text(digest)


def child_env(**defaults: str) -> dict[str, str]:
    env = {**defaults, **os.environ}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(VENV)
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


# Under `run`, the web's access log (a line per live refresh, every 3 s per open screen) and the
# worker's and beat's logs go to files, so that the logins and the API key stay readable on screen.
# A worker with threads rather than processes stops at once on Ctrl+C, without complaining.
LOG_DIR = ROOT / "var" / "log"
QUIET_DEFAULTS = {
    "WEB_ACCESS_LOG": str(LOG_DIR / "web-access.log"),
    "CELERY_WORKER_LOG": str(LOG_DIR / "worker.log"),
    "CELERY_BEAT_LOG": str(LOG_DIR / "beat.log"),
    "CELERY_POOL": "threads",
}


def run() -> int:
    ensure_installed()
    uses_sandbox = not os.environ.get("HUBRISE_CLIENT_ID")
    defaults = {"GETRESTO_ENV": "development", "WHITENOISE_USE_FINDERS": "true", **QUIET_DEFAULTS}
    if uses_sandbox:
        defaults |= SANDBOX_DEFAULTS
    defaults["PUBLIC_URL"] = f"http://127.0.0.1:{os.environ.get('WEB_PORT', '8000')}"
    env = child_env(**defaults)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "seed_demo")
    if uses_sandbox:
        # The sandbox also runs a virtual kitchen printer: the demo's orders come out on its page.
        manage(env, "seed_demo_printer")
    processes = ["web", "worker", "beat"] + (["sandbox"] if uses_sandbox else [])
    port = env.get("WEB_PORT", "8000")
    print(f"\n  Back office : http://127.0.0.1:{port}/", flush=True)
    if uses_sandbox:
        print(f"  HubRise sandbox : http://127.0.0.1:{SANDBOX_PORT}/", flush=True)
        print(f"  Kitchen printer : http://127.0.0.1:{SANDBOX_PORT}/printers", flush=True)
    print(f"  Logs of the web requests, the worker and beat: {LOG_DIR.relative_to(ROOT)}/", flush=True)
    print("  Stop everything with Ctrl+C.\n", flush=True)
    try:
        return subprocess.call([BIN / "honcho", "start", *processes], cwd=ROOT, env=env)
    except KeyboardInterrupt:
        # Ctrl+C reaches honcho too, which stops every process: nothing to add but a clean exit.
        return 0


def test(args: list[str]) -> int:
    ensure_installed()
    return subprocess.call([PYTHON, "-m", "pytest", *args], cwd=ROOT, env=child_env())


def main() -> int:
    command, *rest = sys.argv[1:] or ["help"]
    if command == "run":
        return run()
    if command == "test":
        return test(rest)
    print(__doc__)
    return 0 if command == "help" else 2


if __name__ == "__main__":
    sys.exit(main())
