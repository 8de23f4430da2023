"""`calypso saxo quote|chain|positions|orders|stream`: read-only Saxo diagnostics for operators.

Every command takes `--env` (default $CALYPSO_ENV, else local), `--sim-url` and `--json`
(plain `json.dumps` to stdout; `stream --json` prints one JSON object per update as it
arrives, flushed: JSON lines). Nothing here places or cancels orders.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import threading
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from rich.console import Console
from rich.table import Table

from shared.domain import PriceUpdate, Quote
from shared.logger_service import configure_logging
from shared.saxo_client import reference
from shared.saxo_client.client import SaxoClient, build_client
from shared.saxo_client.environments import ENV_NAMES
from shared.saxo_client.errors import SaxoError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("saxo", help="Saxo diagnostics: quotes, chains, portfolio")
    commands = parser.add_subparsers(dest="saxo_command", metavar="ACTION", required=True)

    quote = commands.add_parser("quote", help="info-price snapshot of a symbol or UIC")
    quote.add_argument("instrument", help="SPX, SPY, QQQ, VIX, US500.I, or a numeric UIC")
    quote.add_argument("--asset-type", help="Saxo AssetType (needed with a numeric UIC)")
    quote.add_argument("--greeks", action="store_true", help="ask for Greeks (options)")
    quote.set_defaults(func=_quote)

    chain = commands.add_parser("chain", help="expiries, or one expiry's strikes and UICs")
    chain.add_argument("root", help="option root: SPXW, SPY or QQQ")
    chain.add_argument("--expiry", type=date.fromisoformat, help="YYYY-MM-DD")
    chain.set_defaults(func=_chain)

    commands.add_parser("positions", help="open positions").set_defaults(func=_positions)
    commands.add_parser("orders", help="working orders").set_defaults(func=_orders)

    stream = commands.add_parser("stream", help="stream one instrument's prices")
    stream.add_argument("instrument", help="symbol or numeric UIC")
    stream.add_argument("--asset-type", help="Saxo AssetType (needed with a numeric UIC)")
    stream.add_argument("--seconds", type=float, default=10.0, help="how long to listen")
    stream.set_defaults(func=_stream)

    for sub in (quote, chain, stream, *_parsers(commands, ("positions", "orders"))):
        sub.add_argument(
            "--env",
            choices=ENV_NAMES,
            default=os.environ.get("CALYPSO_ENV", "local"),
            help="Saxo environment (default $CALYPSO_ENV or local)",
        )
        sub.add_argument("--sim-url", help="simulator URL for --env local")
        sub.add_argument("--json", action="store_true", help="plain JSON on stdout")


def _parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], names: tuple[str, ...]
) -> list[argparse.ArgumentParser]:
    return [commands.choices[name] for name in names]


def jsonable(value: Any) -> Any:
    """Domain objects as JSON-ready values (Decimal and datetimes as strings)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def resolve_instrument(text: str, asset_type: str | None) -> tuple[int, str]:
    """(UIC, AssetType) from a known symbol, or a numeric UIC with --asset-type."""
    if text.isdigit():
        if not asset_type:
            raise ValueError("a numeric UIC needs --asset-type (e.g. StockIndexOption)")
        return int(text), asset_type
    instrument = reference.underlying(text)
    return instrument.uic, asset_type or instrument.asset_type


def _run(args: argparse.Namespace, action: Any, *, printed: bool = False) -> int:
    """Run `action(client)` and show its result (JSON or a table); with `printed` the action
    has already written its output (a stream's JSON lines) and only the table mode renders."""
    configure_logging(None, level="WARNING")
    client: SaxoClient | None = None
    try:
        client = build_client(args.env, sim_url=args.sim_url)
        result = action(client)
    except (SaxoError, ValueError) as exc:
        print(f"calypso saxo {args.saxo_command}: {exc}", file=sys.stderr)
        return 1
    finally:
        if client is not None:
            client.close()
    if args.json:
        if not printed:
            print(json.dumps(jsonable(result)))
    else:
        _render(args.saxo_command, result)
    return 0


def _resolve(args: argparse.Namespace) -> tuple[int, str] | None:
    try:
        return resolve_instrument(args.instrument, args.asset_type)
    except ValueError as exc:
        print(f"calypso saxo {args.saxo_command}: {exc}", file=sys.stderr)
        return None


def _quote(args: argparse.Namespace) -> int:
    resolved = _resolve(args)
    if resolved is None:
        return 2
    uic, asset_type = resolved
    return _run(args, lambda client: client.quote(uic, asset_type, greeks=args.greeks))


def _chain(args: argparse.Namespace) -> int:
    def listed_chain(client: SaxoClient) -> Any:
        chain = client.chain(args.root, args.expiry)
        if args.expiry is not None and args.expiry not in chain.expiries:
            listed = ", ".join(d.isoformat() for d in chain.expiries) or "none"
            raise ValueError(
                f"expiry {args.expiry.isoformat()} is not listed for {args.root}; listed: {listed}"
            )
        return chain

    return _run(args, listed_chain)


def _positions(args: argparse.Namespace) -> int:
    return _run(args, lambda client: client.positions())


def _orders(args: argparse.Namespace) -> int:
    return _run(args, lambda client: client.open_orders())


def _stream(args: argparse.Namespace) -> int:
    resolved = _resolve(args)
    if resolved is None:
        return 2
    uic, asset_type = resolved

    def listen(client: SaxoClient) -> list[PriceUpdate]:
        updates: list[PriceUpdate] = []
        lock = threading.Lock()

        def on_price(update: PriceUpdate) -> None:
            with lock:
                updates.append(update)
                if args.json:  # one object per line as it arrives (JSON lines)
                    print(json.dumps(jsonable(update)), flush=True)
                else:
                    print(f"{update.received_at:%H:%M:%S.%f} {_quote_line(update.quote)}",
                          flush=True)

        stream = client.price_stream(on_price)
        if not stream.start():
            raise SaxoError("stream did not connect")
        try:
            snapshot = stream.subscribe(uic, asset_type)
            if snapshot is not None and not args.json:
                print(f"snapshot {_quote_line(snapshot)}", flush=True)
            threading.Event().wait(args.seconds)
        finally:
            stream.stop()
        return updates

    return _run(args, listen, printed=True)


def _quote_line(quote: Quote) -> str:
    return (
        f"uic={quote.uic} bid={quote.bid} ask={quote.ask} mid={quote.mid} last={quote.last} "
        f"updated={quote.updated_at.isoformat() if quote.updated_at else '-'}"
    )


def _render(command: str, result: Any) -> None:
    """A table on a terminal (cells fold, never cut to '...'); tab-separated plain text when
    stdout is a pipe or a file, so no number is ever truncated."""
    console = Console()
    if command == "stream":
        console.print(f"{len(result)} updates")
        return
    rows: list[Any] = result if isinstance(result, list) else [result]
    if command == "chain":
        chain = rows[0]
        if not chain.contracts:
            console.print("expiries: " + ", ".join(d.isoformat() for d in chain.expiries))
            return
        rows = list(chain.for_expiry(chain.contracts[0].expiry))
    if not rows:
        console.print("(none)")
        return
    data = [jsonable(row) for row in rows]
    columns = [k for k, v in data[0].items() if not isinstance(v, dict)]
    cells = [[_cell(row.get(column)) for column in columns] for row in data]
    if not sys.stdout.isatty():
        for line in (columns, *cells):
            print("\t".join(line))
        return
    table = Table()
    for column in columns:
        table.add_column(column, overflow="fold")
    for row_cells in cells:
        table.add_row(*row_cells)
    console.print(table)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
