"""`klipstar webhooks listen`: print every webhook event, verifying both of its signatures."""

from __future__ import annotations

import argparse
import json
import threading

from .errors import CliError


def _secret(args: argparse.Namespace) -> str:
    if args.secret:
        return str(args.secret)
    from ..local.service import STATE_FILE

    if STATE_FILE.is_file():
        return str(json.loads(STATE_FILE.read_text())["webhook_secret"])
    raise CliError("no signing secret: pass --secret whsec_… or start `klipstar serve` in this folder first")


def cmd_listen(args: argparse.Namespace) -> int:
    from ..local.webhook_listener import ReceivedEvent, WebhookListener

    def show(received: ReceivedEvent) -> None:
        event = received.event
        verdict = ("signatures ok (Klipstar-Signature, webhook-signature)" if received.signature_ok
                   else "SIGNATURE INVALID (answered 400)")
        print(f"<- {event.get('event', '?')} {event.get('project_id', '')} [{received.event_id}] {verdict}")
        print(json.dumps(event, indent=2) if args.verbose else f"   {len(received.raw)} bytes", flush=True)

    try:
        listener = WebhookListener(_secret(args), port=args.port, on_event=show).start()
    except OSError as exc:
        raise CliError(f"cannot listen on port {args.port}: {exc.strerror}; pick another with --port") from None
    print(f"Listening for webhooks at {listener.url} (Ctrl-C to stop)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("webhooks", help="webhook tools")
    wsub = p.add_subparsers(dest="webhooks_command", required=True)
    listen = wsub.add_parser("listen", help="receive, verify and print webhook events")
    listen.add_argument("--port", type=int, default=4242)
    listen.add_argument("--secret", default=None, help="signing secret: an endpoint's, or GET /v1/webhook-secret's "
                        "(default: from a running `klipstar serve`)")
    listen.add_argument("--verbose", "-v", action="store_true", help="print each event's JSON body")
    listen.set_defaults(handler=cmd_listen)
