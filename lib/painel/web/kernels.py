"""Kernel ownership: a kernel belongs to the user whose page view got it.

Voilà does not track who a kernel serves, so by default any logged-in user who learns a
kernel id can attach to it or shut it down. The mixin below records an owner when a kernel
is handed to a request (a cold start, or a preheated kernel taken from the pool) and the
authorizer allows kernel access only to that owner. It also enforces a per-user cap.

The request's user reaches the kernel manager through a context variable set by the render
handler: kernels started for the pool (at start-up or as refills) carry no owner until a
request takes them.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from typing import Any

from jupyter_core.utils import ensure_async

REQUEST_USER: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "painel_request_user", default=None
)


class OwnershipMixin:
    """Mixed in above Voilà's (possibly pooling) kernel manager class."""

    def _owner_map(self) -> dict[str, str]:
        if not hasattr(self, "_painel_owners"):
            self._painel_owners: dict[str, str] = {}
            self._painel_since: dict[str, float] = {}
            self._painel_evictions: set[asyncio.Future[Any]] = set()
        return self._painel_owners

    def owner(self, kernel_id: str) -> str | None:
        return self._owner_map().get(kernel_id)

    def kernels_of(self, username: str) -> list[str]:
        owners = self._owner_map()
        return [k for k, u in owners.items() if u == username and k in self]  # type: ignore[operator]

    def _claim(self, kernel_id: str, username: str) -> None:
        self._owner_map()[kernel_id] = username
        self._painel_since[kernel_id] = time.monotonic()

    def last_used(self, kernel_id: str) -> float:
        kernel = self.get_kernel(kernel_id)  # type: ignore[attr-defined]
        activity = getattr(kernel, "last_activity", None)
        return (
            activity.timestamp() if activity is not None else self._painel_since.get(kernel_id, 0.0)
        )

    async def start_kernel(self, *args: Any, **kwargs: Any) -> str:
        owner = REQUEST_USER.get()
        kernel_id = await ensure_async(super().start_kernel(*args, **kwargs))  # type: ignore[misc]
        if owner:
            self._claim(kernel_id, owner)
        return kernel_id

    async def get_rendered_notebook(self, *args: Any, **kwargs: Any) -> Any:
        owner = REQUEST_USER.get()
        # the pool refill started inside must not inherit this request's user
        token = REQUEST_USER.set(None)
        try:
            result = await super().get_rendered_notebook(*args, **kwargs)  # type: ignore[misc]
        finally:
            REQUEST_USER.reset(token)
        if owner:
            self._claim(result[2], owner)
        return result

    async def shutdown_kernel(self, kernel_id: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return await ensure_async(super().shutdown_kernel(kernel_id, *args, **kwargs))  # type: ignore[misc]
        finally:
            self._owner_map().pop(kernel_id, None)
            self._painel_since.pop(kernel_id, None)

    def enforce_cap(self, username: str, cap: int) -> list[str]:
        """Evict the user's least recently used kernels so one more fits under ``cap``.

        An evicted kernel loses its owner at once (so nobody can use it any more) and is shut
        down in the background: the shutdown (~0.3 s) stays off the new page's critical path.
        """
        mine = sorted(self.kernels_of(username), key=self.last_used)
        evicted = []
        while len(mine) >= max(cap, 1):
            victim = mine.pop(0)
            self._owner_map().pop(victim, None)
            task = asyncio.ensure_future(self.shutdown_kernel(victim))
            self._painel_evictions.add(task)
            task.add_done_callback(self._painel_evictions.discard)
            evicted.append(victim)
        return evicted

    async def shutdown_user_kernels(self, username: str) -> int:
        mine = self.kernels_of(username)
        for kernel_id in mine:
            await self.shutdown_kernel(kernel_id)
        return len(mine)
