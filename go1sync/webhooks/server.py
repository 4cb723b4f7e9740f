"""The receiver served by waitress, a WSGI server fit to face a network behind a proxy.

:class:`ReceiverServer` binds ``HOST:PORT`` (port 0 picks a free one; :attr:`ReceiverServer.url`
says which), serves in a background thread and stops cleanly: it stops accepting, lets the
requests in hand finish and their answers go out, then closes every connection and waits for
its thread. Proxy headers (``X-Forwarded-For``...) are cleared, since no proxy is trusted:
the peer logged is the proxy's address. waitress refuses a body over a little more than the
app's cap itself (with a plain-text 413); between the two, the app answers its JSON 413.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from types import TracebackType
from typing import Any

import waitress
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.trigger import trigger as Trigger

from go1sync.settings import parse_listen as settings_parse_listen
from go1sync.webhooks.receiver import MAX_BODY

#: How much more than the app's cap waitress itself lets in (the app answers 413 in JSON).
BODY_SLACK = 64 * 1024
STOP_SECONDS = 5.0


class ListenError(OSError):
    """The server could not listen on its address: ``str()`` is one line for the user,
    ``errno`` the cause's."""

    def __init__(self, message: str, code: int | None) -> None:
        super().__init__(code, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) as ``(host, port)``, read as the setting
    ``GO1SYNC_WEBHOOK_LISTEN`` is (one owner of the format); ``ValueError`` naming the value."""
    try:
        return settings_parse_listen(listen)
    except ValueError as exc:
        raise ValueError(f"listen address {listen!r}: {exc}") from None


class ReceiverServer:
    """Serves ``app`` on ``listen`` with ``threads`` worker threads: :meth:`start`,
    :meth:`stop`, or ``with ReceiverServer(app, "127.0.0.1:0") as server: server.url``."""

    def __init__(self, app: Any, listen: str, threads: int = 8) -> None:
        self.host, self.port = parse_listen(listen)
        if threads < 1:
            raise ValueError(f"the receiver needs at least one thread, not {threads}")
        self.app = app
        self.listen = listen
        self.threads = threads
        self._server: Any = None
        self._map: dict[int, Any] = {}
        self._thread: threading.Thread | None = None
        self._bound: tuple[str, int] | None = None

    @property
    def url(self) -> str:
        """The base URL served, with the real port (``http://127.0.0.1:54321``)."""
        if self._bound is None:
            raise RuntimeError("the receiver server is not started")
        host, port = self._bound
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> ReceiverServer:
        """Bind and serve in a background thread; :class:`ListenError` when the address
        cannot be listened on (in use, not this machine's, not allowed)."""
        if self._thread is not None:
            return self
        cap = int(getattr(self.app, "max_body", MAX_BODY)) + BODY_SLACK
        try:
            server = waitress.create_server(
                self.app, map=self._map, host=self.host, port=self.port,
                threads=self.threads, max_request_body_size=cap,
                clear_untrusted_proxy_headers=True, ident="go1sync")
        except ValueError:  # waitress's words for a host that does not resolve
            raise ListenError(f"cannot listen on {self.listen}: the host is unknown",
                              None) from None
        except OSError as exc:
            wasyncore.close_all(self._map, ignore_all=True)
            raise ListenError(f"cannot listen on {self.listen}: {_cause(exc)}",
                              exc.errno) from None
        self._server = server
        if isinstance(server, BaseWSGIServer):
            host, port = server.effective_host, server.effective_port
        else:  # a host naming several addresses: one socket each
            host, port = server.effective_listen[0]
        self._bound = (str(host), int(port))
        self._thread = threading.Thread(target=server.run, name="go1sync-webhooks",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stop accepting, let the requests in hand finish (up to ``timeout`` seconds), close
        every connection and wait for the serving thread."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._in_loop(self._close_listeners)
        server.task_dispatcher.shutdown(cancel_pending=False, timeout=timeout)
        deadline = time.monotonic() + min(timeout, 1.0)
        while time.monotonic() < deadline and any(
                isinstance(channel, HTTPChannel) and channel.total_outbufs_len
                for channel in list(self._map.values())):
            time.sleep(0.01)  # answers written by the threads are still going out
        self._in_loop(lambda: wasyncore.close_all(self._map, ignore_all=True))
        thread.join(timeout)
        wasyncore.close_all(self._map, ignore_all=True)  # if the loop did not get to it
        self._server = None
        self._thread = None
        self._bound = None

    def __enter__(self) -> ReceiverServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _close_listeners(self) -> None:
        for dispatcher in list(self._map.values()):
            if isinstance(dispatcher, BaseWSGIServer):
                dispatcher.accepting = False
                wasyncore.dispatcher.close(dispatcher)

    def _in_loop(self, action: Any) -> None:
        """Run ``action`` in the serving thread (wasyncore's map is the loop's own), and
        wait for it."""
        done = threading.Event()

        def thunk() -> None:
            try:
                action()
            finally:
                done.set()

        trigger = next((d for d in list(self._map.values()) if isinstance(d, Trigger)), None)
        if trigger is None or self._thread is None or not self._thread.is_alive():
            thunk()
            return
        trigger.pull_trigger(thunk)
        done.wait(STOP_SECONDS)


def _cause(exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "the address is in use"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "the address is not one of this machine's"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied (ports below 1024 need privileges)"
    if isinstance(exc, socket.gaierror):
        return "the host is unknown"
    return (exc.strerror or str(exc)).rstrip(".").lower()
