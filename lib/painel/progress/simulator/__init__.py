"""A faithful simulator of the Cademi LMS REST API (``/api/v1``), served on loopback.

- :mod:`.world`: the deterministic school (products, class tags, students and their progress
  against a settable simulated clock); the same seed and anchor give the same replies.
- :mod:`.server`: :class:`CademiSimulator`, the HTTP API over a world, with its rate limit,
  cursor pagination, 409 business errors, injected :class:`Faults` and control routes.
- :mod:`.cli`: ``painel simulate cademi`` (see :func:`add_arguments` and :func:`run`).
"""

from .cli import add_arguments, from_args, run
from .server import CademiSimulator, Faults
from .world import TRACKS, ClassTag, Membership, Product, Student, World

__all__ = [
    "TRACKS",
    "CademiSimulator",
    "ClassTag",
    "Faults",
    "Membership",
    "Product",
    "Student",
    "World",
    "add_arguments",
    "from_args",
    "run",
]
