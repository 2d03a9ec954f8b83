"""``painel simulate cademi``: serve a :class:`~.server.CademiSimulator` until stopped."""

from __future__ import annotations

import argparse
import datetime
import signal
import threading
from typing import Any

from .server import CademiSimulator, Faults


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``painel simulate cademi``."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=8867, help="port to bind, 0 for any free port (default: 8867)"
    )
    parser.add_argument("--seed", type=int, default=7, help="world seed (default: 7)")
    parser.add_argument(
        "--students", type=int, default=300, help="number of students (default: 300)"
    )
    parser.add_argument(
        "--classes", type=int, default=6, help="number of running classes (default: 6)"
    )
    parser.add_argument("--key", default="painel-demo-key", help="the API key clients must send")
    parser.add_argument(
        "--per-second", type=float, default=2.0, help="requests allowed per sliding second"
    )
    parser.add_argument(
        "--per-minute", type=int, default=120, help="requests allowed per sliding minute"
    )
    parser.add_argument(
        "--rate-scale",
        type=float,
        default=1.0,
        help="multiply both limits (e.g. 50 -> 100/s and 6000/min)",
    )
    parser.add_argument(
        "--limit-status", type=int, default=429, help="HTTP status of rate-limited replies"
    )
    parser.add_argument(
        "--anchor",
        type=datetime.date.fromisoformat,
        default=None,
        help="anchor week YYYY-MM-DD (default: this week)",
    )
    parser.add_argument(
        "--as-of",
        type=datetime.datetime.fromisoformat,
        default=None,
        help="simulated clock, ISO (default: now)",
    )
    parser.add_argument("--slow", type=float, default=0.0, help="probability of a slow reply")
    parser.add_argument(
        "--slow-seconds", type=float, default=2.0, help="delay of a slow reply (seconds)"
    )
    parser.add_argument("--error-5xx", type=float, default=0.0, help="probability of a 5xx reply")
    parser.add_argument(
        "--drop", type=float, default=0.0, help="probability of a dropped connection"
    )
    parser.add_argument(
        "--malformed", type=float, default=0.0, help="probability of a truncated JSON body"
    )


def from_args(args: argparse.Namespace) -> CademiSimulator:
    """A (not yet started) simulator configured from :func:`add_arguments` options."""
    scale = getattr(args, "rate_scale", 1.0) or 1.0
    return CademiSimulator(
        seed=args.seed,
        students=args.students,
        classes=args.classes,
        key=args.key,
        per_second=args.per_second * scale,
        per_minute=max(1, round(args.per_minute * scale)),
        limit_status=args.limit_status,
        anchor=args.anchor,
        as_of=args.as_of,
        faults=Faults(
            slow=args.slow,
            slow_seconds=args.slow_seconds,
            error_5xx=args.error_5xx,
            drop=args.drop,
            malformed=args.malformed,
        ),
    )


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; returns 0."""
    sim = from_args(args)
    base_url = sim.start(args.host, args.port)
    print(
        f"Cademi simulator at {base_url} (key: {sim.key}, limits: {sim.per_second:g}/s, {sim.per_minute}/min)",
        flush=True,
    )
    done = threading.Event()
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        sim.stop()
    return 0
