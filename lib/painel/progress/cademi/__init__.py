"""The Cademi REST API client (:mod:`.client`) and its client-side rate limit (:mod:`.ratelimit`)."""

from .client import (
    USER_AGENT,
    AuthFailed,
    BusinessError,
    CademiClient,
    CademiError,
    CallStats,
    Malformed,
    Progress,
    Unavailable,
    as_int,
    parse_percentage,
)
from .ratelimit import RateLimiter

__all__ = [
    "USER_AGENT",
    "AuthFailed",
    "BusinessError",
    "CademiClient",
    "CademiError",
    "CallStats",
    "Malformed",
    "Progress",
    "RateLimiter",
    "Unavailable",
    "as_int",
    "parse_percentage",
]
