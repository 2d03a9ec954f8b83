"""``painel simulate pncp``: serve a :class:`~.server.PncpSimulator` over a world until stopped."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import PncpSimulator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``painel simulate pncp``."""
    parser.add_argument(
        "--world", required=True, type=Path, metavar="FILE", help="the world DuckDB file to serve"
    )
    parser.add_argument(
        "--sample",
        action="store_true",
        help="first write the tiny sample world (a week, 4 units, one of Mato Grosso) to FILE",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=8868, help="port to bind, 0 for any free port (default: 8868)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the faults (default: 1)")
    parser.add_argument(
        "--min-interval",
        type=float,
        default=0.0,
        metavar="S",
        help="429 to a call within S seconds of the same client's previous one (PNCP: ~1.5; 0: off)",
    )
    parser.add_argument(
        "--rate-429", type=float, default=0.0, metavar="R", help="probability of a 429 anyway"
    )
    parser.add_argument(
        "--html-429",
        type=float,
        default=0.5,
        metavar="R",
        help="share of 429s answered with nginx's HTML page instead of JSON (default: 0.5)",
    )
    parser.add_argument(
        "--short-pages",
        type=float,
        default=0.0,
        metavar="R",
        help="probability a page comes back with fewer rows than it should (200)",
    )
    parser.add_argument(
        "--malformed", type=float, default=0.0, metavar="R", help="probability of a cut JSON body"
    )
    parser.add_argument(
        "--outage-after",
        type=int,
        default=0,
        metavar="N",
        help="calls answered before the outage begins (default: 0)",
    )
    parser.add_argument(
        "--outage-calls",
        type=int,
        default=0,
        metavar="N",
        help="the outage (503/504 to every call) lasts N calls",
    )
    parser.add_argument(
        "--outage-seconds",
        type=float,
        default=0.0,
        metavar="S",
        help="the outage lasts S seconds from its first call",
    )
    parser.add_argument(
        "--deep-page",
        type=int,
        default=0,
        metavar="N",
        help="listing pages past N answer 500 (0: off)",
    )


def from_args(args: argparse.Namespace) -> PncpSimulator:
    """A (not yet started) simulator configured from :func:`add_arguments` options."""
    from .server import Faults, PncpSimulator

    if getattr(args, "sample", False):
        from .sample import write_sample_world

        write_sample_world(args.world, seed=args.seed)
    return PncpSimulator(
        args.world,
        seed=args.seed,
        host=args.host,
        port=args.port,
        faults=Faults(
            min_interval=args.min_interval,
            rate_429=args.rate_429,
            html_429=args.html_429,
            short_pages=args.short_pages,
            malformed=args.malformed,
            outage_after=args.outage_after,
            outage_calls=args.outage_calls,
            outage_seconds=args.outage_seconds,
            deep_page=args.deep_page,
        ),
    )


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; returns 0."""
    sim = from_args(args)
    url = sim.start()
    faults = {k: v for k, v in vars(sim.faults).items() if v and k != "html_429"}
    print(
        f"PNCP simulator at {url} (world: {sim.world}; consulta {url}/api/consulta/v1, "
        f"detail {url}/api/pncp/v1; faults: {faults or 'none'})",
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
        sim.close()
    return 0


def _cmd(args: argparse.Namespace) -> int:
    return run(args)


def add(groups: Any) -> None:
    """``painel simulate pncp``."""
    parser = groups.simulate.add_parser(
        "pncp",
        help="serve a simulated PNCP API over a world file (with PNCP's quirks and faults)",
        description="Serve PNCP's consulta (/api/consulta/v1: contratacoes, contratos) and "
        "detail (/api/pncp/v1: itens, resultados, termos, amparos-legais) APIs over a world "
        "DuckDB file, with PNCP's envelope, 204s, 400/422 messages, items 10 per page by "
        "default, bare arrays, and switchable faults: pacing 429s, random 429s, short pages, "
        "malformed JSON, an outage, 500 on deep pages (deterministic from --seed).",
    )
    add_arguments(parser)
    parser.set_defaults(fn=_cmd)
