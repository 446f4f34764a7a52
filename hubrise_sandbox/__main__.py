"""``python -m hubrise_sandbox``: serve the sandbox with a threaded WSGI server until stopped."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from werkzeug.serving import make_server

from .app import create_app
from .config import ConfigError, Settings


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s hubrise_sandbox %(levelname)s %(message)s")
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"hubrise_sandbox: {error}", file=sys.stderr)
        return 2
    app = create_app(settings)
    sandbox = app.extensions["hubrise_sandbox"]
    server = make_server(settings.host, settings.port, app, threaded=True)

    def stop(signum, frame) -> None:
        # shutdown() blocks until serve_forever returns, so it must run on another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sandbox.dispatcher.start()
    sandbox.scheduler.start()
    printers = app.extensions["virtual_printers"]
    printers.start_demo_printer()
    logging.info(
        "HubRise sandbox on http://%s:%s (API /v1, OAuth /oauth2/v1, page /, control /_sandbox), db %s",
        settings.host,
        settings.port,
        settings.db_path,
    )
    try:
        server.serve_forever()
    finally:
        sandbox.dispatcher.stop()
        sandbox.scheduler.stop()
        printers.stop_all()
        sandbox.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
