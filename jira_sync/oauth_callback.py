"""A one-shot loopback HTTP server that receives the OAuth 2.0 (3LO) redirect (`?code=&state=`).

Operators without the webhook receiver run `jira-sync connect`, open the printed authorize URL,
approve, and the browser lands here; the demo follows the same redirect with an HTTP client.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CALLBACK_PATH = "/oauth/callback"


class ConsentDenied(Exception):
    """The user declined, or the authorization server answered with an error."""


@dataclass
class CallbackResult:
    code: str | None = None
    state: str | None = None
    error: str | None = None


class LoopbackCallback:
    """Serve `GET /oauth/callback` on 127.0.0.1 until one redirect arrives (use as a context manager)."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self._received = threading.Event()
        self._result = CallbackResult()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="oauth-callback", daemon=True)

    @property
    def redirect_uri(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{CALLBACK_PATH}"

    def __enter__(self) -> LoopbackCallback:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def wait(self, expected_state: str, timeout: float | None = None) -> str:
        """The authorization code, once the redirect with the expected state has arrived."""
        if not self._received.wait(timeout):
            raise TimeoutError(f"no OAuth redirect reached {self.redirect_uri} within {timeout:.0f} s")
        result = self._result
        if result.error:
            raise ConsentDenied(f"the authorization server answered error={result.error}")
        if result.state != expected_state:
            raise ConsentDenied("the redirect's state does not match this connect attempt; start again")
        if not result.code:
            raise ConsentDenied("the redirect carries no authorization code")
        return result.code

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        callback = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path != CALLBACK_PATH:
                    self.send_error(404)
                    return
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if not callback._received.is_set():
                    callback._result = CallbackResult(
                        code=query.get("code"), state=query.get("state"), error=query.get("error")
                    )
                    callback._received.set()
                ok = "code" in query
                body = (
                    b"<!doctype html><title>jira-sync</title><p>Connected. You can close this tab.</p>"
                    if ok
                    else b"<!doctype html><title>jira-sync</title><p>Not connected: see the terminal.</p>"
                )
                self.send_response(200 if ok else 400)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # the query holds the code
                return

        return Handler
