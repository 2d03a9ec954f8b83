"""A client for the Cademi REST API (``https://<subdomain>.cademi.com.br/api/v1``).

What it follows (see docs/progress.md and ../shared DOMAIN notes):

- the bare key in ``Authorization``; 403 = no key, 405 = wrong key (never retried);
- the envelope ``{success, code, data | msg, profiler}``; 409 = a business error with ``msg``;
- cursor pagination: follow ``data.paginator.next_page_url`` until it is null;
- the documented limit of 2 calls/s and 120 calls/min, kept on the client side by
  :class:`RateLimiter`: every attempt, retries included, holds a slot until its reply and is
  counted from the reply (so no delay on the way can bunch calls up at the server), with a
  safety margin (``rate_margin``, 2 % by default); a 429 halves the pace, holds every call
  for its Retry-After, and the pace comes back gradually;
- 429, 5xx, timeouts, dropped connections and unreadable bodies are retried with
  exponential backoff (tenacity); after the last attempt they raise :class:`Unavailable`.

The key is sent in a header only: it never appears in a URL, a message or a log line.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from .ratelimit import RateLimiter

USER_AGENT = "painel-progress/1 (+https://github.com/painel)"


class CademiError(Exception):
    """A Cademi call that did not give data; the message says which call and why."""


class AuthFailed(CademiError):
    """403 (no key) or 405 (wrong key): nothing will work until the key is fixed."""


class BusinessError(CademiError):
    """409: Cademi refused the call by a business rule (unknown tag, user, product...)."""

    def __init__(self, what: str, msg: str):
        self.msg = msg
        super().__init__(f"{what}: Cademi answered 409 {msg!r}")


class Unavailable(CademiError):
    """429/5xx/timeouts/dropped connections/unreadable replies, after every retry."""


class Malformed(CademiError):
    """A reply that is valid JSON but not what the API documents (e.g. a bad percentage)."""


class _Transient(Exception):
    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Progress:
    pct: float  # 0-100
    watched: int
    completed: int


@dataclass
class CallStats:
    calls: int = 0  # HTTP attempts, retries included
    retries: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)


_PCT = re.compile(r"^\s*(\d{1,3}(?:[.,]\d+)?)\s*%?\s*$")


def parse_percentage(value: Any, what: str) -> float:
    """``"41.7%"`` -> 41.7. Numbers are accepted too (the webhook sends ints); 0-100 only."""
    if isinstance(value, bool):
        raise Malformed(f"{what}: progress 'total' is not a percentage: {value!r}")
    if isinstance(value, (int, float)):
        pct = float(value)
    elif isinstance(value, str) and (m := _PCT.match(value)):
        pct = float(m.group(1).replace(",", "."))
    else:
        raise Malformed(f"{what}: progress 'total' is not a percentage: {value!r}")
    if not 0 <= pct <= 100:
        raise Malformed(f"{what}: progress 'total' out of 0-100%: {value!r}")
    return pct


def _count(value: Any, name: str, what: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Malformed(f"{what}: progress {name!r} is not a non-negative integer: {value!r}")
    return value


class CademiClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        per_second: float = 2.0,
        per_minute: int = 120,
        rate_margin: float = 0.02,
        timeout_s: float = 30.0,
        retries: int = 5,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        session: requests.Session | None = None,
    ):
        if not api_key or any(not c.isprintable() or c.isspace() for c in api_key):
            # checked here so that requests never echoes a malformed key in an error
            raise AuthFailed("the Cademi API key is empty or holds spaces or control characters")
        self.base_url = base_url.rstrip("/")
        self._origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.base_url))
        self._key = api_key
        self.limiter = RateLimiter.per(per_second, per_minute, margin=rate_margin)
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.session = session or requests.Session()
        self.session.headers.update(
            {"Authorization": api_key, "Accept": "application/json", "User-Agent": USER_AGENT}
        )
        self.stats = CallStats()

    def __repr__(self) -> str:  # never the key
        return f"CademiClient({self.base_url!r})"

    def close(self) -> None:
        self.session.close()

    # ---- one call ------------------------------------------------------------------------
    def _url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            # next_page_url is absolute; follow it only on the API's own scheme and host (the
            # key travels with it: never to another host, never downgraded from https to http)
            link, base = urlsplit(path_or_url), urlsplit(self.base_url)
            if (link.scheme, link.netloc) != (base.scheme, base.netloc):
                raise CademiError(
                    f"refusing to follow a page link to another host: {path_or_url} "
                    f"(the API is {base.scheme}://{base.netloc})"
                )
            return path_or_url
        return self.base_url + "/" + path_or_url.lstrip("/")

    def _attempt(self, url: str, what: str) -> dict[str, Any]:
        with self.limiter.call() as call:  # the slot is held until the reply has come
            self.stats.calls += 1
            try:
                resp = self.session.get(url, timeout=self.timeout_s)
            except requests.Timeout:
                raise _Transient("timeout") from None
            except requests.ConnectionError:
                raise _Transient("connection dropped") from None
            if resp.status_code == 429:
                call.refused(retry_after(resp.headers.get("Retry-After"), self.max_backoff_s))
            else:
                call.answered()
        status = resp.status_code
        if status == 403:
            raise AuthFailed(f"{what}: Cademi refused the call (403: no security header sent)")
        if status == 405:
            raise AuthFailed(
                f"{what}: Cademi refused the API key (405: invalid token); check the key"
            )
        if status == 429:
            raise _Transient("429 rate limit")
        if status >= 500:
            raise _Transient(f"HTTP {status}")
        try:
            body = resp.json()
        except ValueError:
            if status == 200:
                raise _Transient("unreadable reply (not JSON)") from None
            raise CademiError(f"{what}: unexpected HTTP {status} without a JSON body") from None
        if not isinstance(body, dict):
            raise _Transient("unreadable reply (not an envelope)")
        if status == 409 or body.get("code") == 409:
            raise BusinessError(what, str(body.get("msg") or "regra de negócio"))
        if (
            status != 200
            or body.get("success") is not True
            or not isinstance(body.get("data"), dict)
        ):
            raise CademiError(
                f"{what}: unexpected reply HTTP {status}, code {body.get('code')!r}: "
                f"{str(body.get('msg') or '')[:200]}"
            )
        return body["data"]

    def get(self, path_or_url: str, what: str | None = None) -> dict[str, Any]:
        """``data`` of one GET, retried on transient failures."""
        url = self._url(path_or_url)
        what = what or ("GET " + urlsplit(url).path.replace(urlsplit(self.base_url).path, "", 1))

        def before_sleep(state: Any) -> None:
            self.stats.retries += 1
            reason = state.outcome.exception().reason
            self.stats.by_reason[reason] = self.stats.by_reason.get(reason, 0) + 1

        retrying = Retrying(
            stop=stop_after_attempt(self.retries),
            wait=wait_exponential_jitter(
                initial=self.backoff_s, max=self.max_backoff_s, jitter=self.backoff_s / 2
            ),
            retry=retry_if_exception_type(_Transient),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(self._attempt, url, what)
        except _Transient as exc:
            raise Unavailable(f"{what}: {exc.reason} after {self.retries} attempts") from None

    def pages(self, path: str, key: str, what: str) -> Iterator[list[dict[str, Any]]]:
        """Each page's ``data[key]`` list, following ``paginator.next_page_url``."""
        url: str | None = path
        seen: set[str] = set()
        page = 0
        while url:
            page += 1
            data = self.get(url, f"{what} (page {page})")
            items = data.get(key)
            if not isinstance(items, list):
                raise Malformed(f"{what} (page {page}): reply has no '{key}' list")
            yield items
            if not items:
                return
            nxt = (data.get("paginator") or {}).get("next_page_url")
            if nxt is not None and not isinstance(nxt, str):
                raise Malformed(f"{what} (page {page}): next_page_url is not a URL")
            if nxt and nxt in seen:
                raise Malformed(f"{what} (page {page}): the API sent the same next page twice")
            if nxt:
                seen.add(nxt)
                if not nxt.startswith(("http://", "https://")):
                    nxt = urljoin(self._origin + "/", nxt)
            url = nxt

    # ---- the calls painel uses ---------------------------------------------------------------
    def tags(self) -> list[dict[str, Any]]:
        data = self.get("/tag", "GET /tag")
        items = data.get("itens")
        if not isinstance(items, list):
            raise Malformed("GET /tag: reply has no 'itens' list")
        return items

    def tag_exists(self, tag_id: int) -> bool:
        return any(as_int(i.get("id")) == tag_id for i in self.tags() if isinstance(i, dict))

    def products(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for items in self.pages("/produto", "produto", "GET /produto"):
            out.extend(items)
        return out

    def users_by_tag(self, tag_id: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for items in self.pages(
            f"/usuario/lista_por_tag/{tag_id}", "usuario", f"GET /usuario/lista_por_tag/{tag_id}"
        ):
            out.extend(items)
        return out

    def progress(self, user_id: int, product_id: int) -> Progress:
        what = f"progress of student {user_id} in product {product_id}"
        data = self.get(f"/usuario/progresso_por_produto/{user_id}/{product_id}", what)
        prog = data.get("progresso")
        if not isinstance(prog, dict):
            raise Malformed(f"{what}: reply has no 'progresso' object")
        return Progress(
            parse_percentage(prog.get("total"), what),
            _count(prog.get("assistidas"), "assistidas", what),
            _count(prog.get("completas"), "completas", what),
        )


def retry_after(value: str | None, cap: float) -> float | None:
    """A Retry-After header (seconds or an HTTP date) as seconds from now, at most ``cap``."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), cap)


def as_int(value: Any) -> int | None:
    """An id from a reply as an int, or None when it is not one."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
