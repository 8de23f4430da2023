"""The OAuth authorization-code login with a local redirect listener.

Against Saxo (sim/live) the operator's browser does the consent; against the local simulator the
authorize endpoint auto-consents with a redirect, which this module follows itself.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit, urlunsplit

import requests

from shared.logger_service import kv
from shared.saxo_client.errors import TokenError
from shared.saxo_client.oauth import OAuthClient, TokenSet

logger = logging.getLogger(__name__)

SHUTDOWN_POLL_S = 0.05  # real seconds: how often the redirect listener checks for shutdown
_PAGE = b"<html><body><h3>CALYPSO: login complete, you can close this window.</h3></body></html>"


class RedirectListener:
    """A one-shot HTTP server on the redirect URI's host and port that captures `code`/`state`.
    Port 0 in the URI picks a free port; `redirect_uri` then holds the real one."""

    def __init__(self, redirect_uri: str) -> None:
        parts = urlsplit(redirect_uri)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"redirect_uri must be a local http URL, got {redirect_uri!r}")
        self._path = parts.path or "/"
        self._result: dict[str, str] = {}
        self._done = threading.Event()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path != listener._path:
                    self.send_error(404)
                    return
                query = parse_qs(url.query)
                listener._result = {key: values[0] for key, values in query.items() if values}
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(_PAGE)
                listener._done.set()

            def log_message(self, format: str, *args: object) -> None:
                return  # the query holds the code: never log it

        self._server = ThreadingHTTPServer(
            (parts.hostname, 80 if parts.port is None else parts.port), Handler
        )
        port = self._server.server_address[1]
        self.redirect_uri = urlunsplit(("http", f"{parts.hostname}:{port}", self._path, "", ""))
        # shutdown() waits for the serve loop's next poll: 50 ms, not the default 0.5 s.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL_S},
            daemon=True,
        )  # fmt: skip

    def __enter__(self) -> RedirectListener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, timeout_s: float) -> dict[str, str]:
        """The redirect's query parameters; raises TokenError on timeout."""
        if not self._done.wait(timeout_s):
            raise TokenError(f"no OAuth redirect received within {timeout_s:g}s")
        return self._result


def login(
    oauth: OAuthClient,
    *,
    redirect_uri: str,
    auto_consent: bool,
    open_browser: Callable[[str], object] | None = None,
    timeout_s: float = 300.0,
) -> TokenSet:
    """Run the code flow and return the first tokens (the caller stores them).

    `auto_consent` (local simulator) follows the authorize redirect here; otherwise the URL is
    handed to `open_browser` (and logged) for the operator to approve.
    """
    state = secrets.token_urlsafe(16)
    with RedirectListener(redirect_uri) as listener:
        url = oauth.authorize_url(state=state, redirect_uri=listener.redirect_uri)
        if auto_consent:
            try:
                response = requests.get(url, allow_redirects=True, timeout=(3.05, 15.0))
            except requests.RequestException as exc:
                raise TokenError(f"authorize endpoint unreachable: {type(exc).__name__}") from None
            if response.status_code >= 400:
                raise TokenError(f"authorize endpoint refused: status={response.status_code}")
        else:
            logger.info(kv("oauth_login_open_browser", env=oauth.env.name))
            if open_browser is not None:
                open_browser(url)
        result = listener.wait(timeout_s)
    if "error" in result:
        raise TokenError(f"authorization refused: {result['error']}")
    if result.get("state") != state:
        raise TokenError("OAuth state mismatch: the redirect did not come from this login")
    code = result.get("code")
    if not code:
        raise TokenError("OAuth redirect carried no code")
    tokens = oauth.exchange_code(code, redirect_uri=listener.redirect_uri)
    logger.info(kv("oauth_login_ok", env=oauth.env.name))
    return tokens
