"""`klipstar serve`: the local service in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading

from ..settings import get_settings


def cmd_serve(args: argparse.Namespace) -> int:
    from ..local.service import LocalService

    settings = get_settings()
    service = LocalService(
        api_port=args.port or settings.api_port,
        moto_port=args.moto_port or settings.moto_port,
        api_key=settings.local_api_key or None,
    )
    service.start()
    state = service.write_state_file()
    stopped = threading.Event()
    # Ctrl-C and SIGTERM both stop it cleanly. Installed explicitly: a process started in the background
    # by a non-interactive shell inherits SIGINT ignored, and Python then never raises KeyboardInterrupt.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    print(f"Klipstar is running at {service.base_url}  (embedded AWS at {service.moto_url})")
    print(f"API key (test mode, Studio plan): {service.api_key}")
    print(f"Webhook signing secret: {service.webhook_secret}")
    print(f"(also in {state}; state is in memory and is gone when this stops. Ctrl-C to stop.)", flush=True)
    try:
        while not stopped.wait(0.5):
            pass
    finally:
        print("Stopping...", flush=True)
        service.stop()
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the whole service locally (embedded AWS, pipeline, workers, API)")
    p.add_argument("--port", type=int, default=None, help="API port (default KLIPSTAR_API_PORT or 8000)")
    p.add_argument("--moto-port", type=int, default=None, help="embedded AWS port (default KLIPSTAR_MOTO_PORT or 5000)")
    p.set_defaults(handler=cmd_serve)
