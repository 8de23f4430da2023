"""`calypso auth login|status`: the one-time OAuth login and a look at the shared token cache."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import webbrowser
from typing import Any

from shared import paths
from shared.clock import WallClock
from shared.logger_service import configure_logging
from shared.saxo_client.client import default_stores, token_coordinator
from shared.saxo_client.credentials import DEFAULT_REDIRECT_URI, load_credentials
from shared.saxo_client.environments import ENV_NAMES, environment
from shared.saxo_client.errors import SaxoError
from shared.saxo_client.login import login
from shared.saxo_client.oauth import OAuthClient, TokenSet
from shared.secret_manager import SecretStoreError
from shared.token_coordinator import cache_mode_problem, read_cache_environments, refresh_margin_s

logger = logging.getLogger(__name__)

LOCAL_REDIRECT_URI = "http://127.0.0.1:0/callback"
EXIT_HOME = 4  # CALYPSO_HOME or its data/ is not a writable directory


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("auth", help="Saxo OAuth login and token cache status")
    commands = parser.add_subparsers(dest="auth_command", metavar="ACTION", required=True)
    login_parser = commands.add_parser("login", help="authorization-code login; stores the tokens")
    _common(login_parser)
    login_parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for the browser redirect"
    )
    login_parser.add_argument(
        "--no-browser", action="store_true", help="print the URL instead of opening a browser"
    )
    login_parser.set_defaults(func=_login)
    status_parser = commands.add_parser("status", help="token expiry from the shared cache")
    _common(status_parser)
    status_parser.add_argument("--json", action="store_true", help="machine-readable output")
    status_parser.set_defaults(func=_status)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", choices=ENV_NAMES, required=True, help="Saxo environment")
    parser.add_argument("--sim-url", help="simulator URL for --env local (else CALYPSO_SIM_URL)")


def _login(args: argparse.Namespace) -> int:
    try:
        paths.prepare_home()
    except paths.HomeDirError as exc:
        print(f"calypso auth login: {exc}", file=sys.stderr)
        return EXIT_HOME
    configure_logging(None, level="WARNING")
    try:
        env = environment(args.env, sim_url=args.sim_url)
        store, write_back = default_stores(args.env)
        credentials = load_credentials(args.env, store)
        oauth = OAuthClient(env=env, credentials=credentials, clock=WallClock())
        local = args.env == "local"
        redirect = LOCAL_REDIRECT_URI if local else credentials.redirect_uri
        if not local:
            print(f"Open this page and approve CALYPSO (redirect to {redirect}):", flush=True)

        def show(url: str) -> None:
            print(url, flush=True)
            if not args.no_browser:
                webbrowser.open(url)

        tokens = login(
            oauth,
            redirect_uri=redirect or DEFAULT_REDIRECT_URI,
            auto_consent=local,
            open_browser=None if local else show,
            timeout_s=args.timeout,
        )
        coordinator = token_coordinator(
            args.env, sim_url=args.sim_url, secret_store=store, write_back=write_back
        )
        coordinator.store(tokens)
    except (SaxoError, SecretStoreError, ValueError) as exc:
        print(f"calypso auth login: {exc}", file=sys.stderr)
        return 1
    print(
        f"Logged in to {args.env}. Access token valid until {tokens.access_expires_at:%H:%M:%S} "
        f"UTC; refresh token until "
        f"{tokens.refresh_expires_at:%Y-%m-%d %H:%M:%S} UTC."
        if tokens.refresh_expires_at
        else f"Logged in to {args.env} (no refresh token: this token cannot be renewed)."
    )
    print(f"Tokens stored in {coordinator.cache_path}")
    return 0


def describe(tokens: TokenSet | None, now_iso: str) -> dict[str, Any]:
    """Token facts for display (never the token values)."""
    if tokens is None:
        return {"logged_in": False, "now": now_iso}
    return {
        "logged_in": True,
        "now": now_iso,
        "access_expires_at": tokens.access_expires_at.isoformat(),
        "refresh_expires_at": tokens.refresh_expires_at.isoformat()
        if tokens.refresh_expires_at
        else None,
        "issued_at": tokens.issued_at.isoformat(),
        "lifetime_s": tokens.lifetime_s,
        "refresh_margin_s": refresh_margin_s(tokens.lifetime_s),
    }


def _status(args: argparse.Namespace) -> int:
    cache = paths.token_cache_path()
    try:
        read_cache_environments(cache)  # a corrupt cache is named, not read as "logged out"
        store, _ = default_stores(args.env)
        coordinator = token_coordinator(args.env, sim_url=args.sim_url, secret_store=store)
        tokens = coordinator.cached()
    except (SaxoError, SecretStoreError, ValueError) as exc:
        print(f"calypso auth status: {exc}", file=sys.stderr)
        return 1
    facts = describe(tokens, WallClock().now().isoformat())
    if tokens is None:
        facts["reason"] = (
            f"no {args.env} token in {cache}: run `calypso auth login --env {args.env}`"
        )
    mode_problem = cache_mode_problem(cache)
    if mode_problem:
        facts["warning"] = mode_problem
        print(f"calypso auth status: warning: {mode_problem}", file=sys.stderr)
    if args.json:
        print(json.dumps(facts))
    else:
        for key, value in facts.items():
            print(f"{key:20} {value}")
    return 0 if tokens is not None else 1
