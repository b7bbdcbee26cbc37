"""Running a small stdlib HTTP server until Ctrl-C or SIGTERM (widget demo, helpline page)."""
from __future__ import annotations

import signal
import threading
from socketserver import BaseServer


def serve_until_stopped(server: BaseServer, banner: str) -> None:
    """Prints where it listens, serves, and shuts down cleanly on SIGINT or SIGTERM."""

    def stop(signum, frame) -> None:  # SIGTERM (make run, the tests) stops it like Ctrl-C
        threading.Thread(target=server.shutdown, daemon=True).start()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
    print(banner, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
