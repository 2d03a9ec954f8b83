"""PNCP public API client (docs/procurement.md): :class:`PncpClient` and its errors."""

from .client import (
    PncpBadResponse,
    PncpClient,
    PncpError,
    PncpIncomplete,
    PncpRequestError,
    PncpStats,
    PncpUnavailable,
)

__all__ = [
    "PncpBadResponse",
    "PncpClient",
    "PncpError",
    "PncpIncomplete",
    "PncpRequestError",
    "PncpStats",
    "PncpUnavailable",
]
