"""How both API clients' requests travel: one urllib3 pool manager shared by a client's threads.

Why urllib3 rather than requests: with a few Go1 requests in flight the client's CPU sits on
every round trip, and requests spends about 0.8 ms of it per page (preparing the request,
hooks, cookies, adapters, response wrapping) where urllib3, which requests sends through
anyway, spends about 0.4 ms. Measured with ``bench/extract_bench.py`` against the sandbox at
20 ms latency, the switch takes 1.3 ms off each round trip. urllib3's pool manager is
thread-safe, so one pool replaces a session per thread and still reuses connections.

What requests used to do for the clients is done here, once per client: the proxy is read
from the environment (``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``, ``NO_PROXY`` honoured) for
the API's host and used for every call, the CA bundle is ``REQUESTS_CA_BUNDLE`` or
``CURL_CA_BUNDLE`` when set, else certifi's. Retries and redirects are left to the caller:
urllib3 raises the transport's own error and returns a 3xx as it came.

A body is read in chunks up to a cap (``GO1SYNC_MAX_RESPONSE_MIB``), never whole: a 300 MB
page once took 2.8 GB of memory. A ``Content-Length`` over the cap fails before anything is
read, and the cap counts the body as unpacked (urllib3 inflates gzip no further than asked),
so at most cap + 1 bytes are ever held; the connection of a refused body is closed, not
drained. The cap bounds the body as sent and as unpacked alike.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import certifi
import urllib3

from apiclient.errors import ResponseTooLarge


@dataclass(frozen=True)
class Answer:
    """A response read to its end: the status, the headers (case-insensitive) and the body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Transport(Protocol):
    """What the client needs of a transport; the benchmark swaps in an in-process one."""

    def send(self, method: str, url: str, *, headers: Mapping[str, str],
             body: bytes | None = None, timeout: tuple[float, float]) -> Answer: ...

    def close(self) -> None: ...


def environment_proxy(url: str) -> str | None:
    """The proxy the environment sets for ``url``'s host, or ``None`` (also when NO_PROXY
    covers the host)."""
    parts = urlsplit(url)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    proxies = urllib.request.getproxies()
    return proxies.get(parts.scheme) or proxies.get("all") or None


def ca_bundle() -> str:
    """The CA file to verify TLS with: the one the environment names, else certifi's."""
    named = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if named:
        return named
    return str(certifi.where())


CHUNK_BYTES = 1 << 16


def declared_length(headers: Mapping[str, str]) -> int | None:
    """The ``Content-Length`` an answer declares, or ``None`` when absent or unreadable."""
    value = (headers.get("Content-Length") or "").strip()
    return int(value) if value.isdigit() else None


def read_capped(response: urllib3.BaseHTTPResponse, limit: int) -> bytes:
    """The body of ``response``, unpacked, or :class:`ResponseTooLarge` once it is found to
    be over ``limit`` bytes: from its ``Content-Length``, or after reading ``limit`` + 1."""
    declared = declared_length(response.headers)
    if declared is not None and declared > limit:
        response.close()  # not drained: the rest may be hundreds of megabytes
        raise ResponseTooLarge(limit, response.status, declared)
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        part = response.read(min(CHUNK_BYTES, limit + 1 - size), decode_content=True)
        if not part:
            return b"".join(parts)
        parts.append(part)
        size += len(part)
    response.close()
    raise ResponseTooLarge(limit, response.status, declared)


class PoolTransport:
    """Keep-alive connections for up to ``connections`` requests at once per host; bodies
    over ``max_body_bytes`` raise :class:`ResponseTooLarge`."""

    def __init__(self, url: str, connections: int, *, max_body_bytes: int) -> None:
        self._max_body = max_body_bytes
        size, certs = max(1, connections), ca_bundle()
        proxy = environment_proxy(url)
        self._pool: urllib3.PoolManager = (
            urllib3.ProxyManager(proxy, num_pools=4, maxsize=size, block=False, ca_certs=certs)
            if proxy else urllib3.PoolManager(num_pools=4, maxsize=size, block=False,
                                              ca_certs=certs))

    def send(self, method: str, url: str, *, headers: Mapping[str, str],
             body: bytes | None = None, timeout: tuple[float, float]) -> Answer:
        response = self._pool.request(
            method, url, headers=dict(headers), body=body, retries=False, redirect=False,
            timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]), preload_content=False)
        try:
            return Answer(response.status, response.headers,
                          read_capped(response, self._max_body))
        finally:
            response.release_conn()

    def close(self) -> None:
        self._pool.clear()
