"""Control API under `/sim/v1/...` for tests and demos (no bearer needed; see docs/SIMULATOR.md)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from shared.saxo_sim.errors import SimApiError, json_response
from shared.saxo_sim.routes import STATE_KEY, get_state
from shared.saxo_sim.state import SimState

PREFIX = "/sim/v1"


def bad_request(message: str) -> SimApiError:
    """400 for a malformed control request, naming the problem."""
    return SimApiError(400, "InvalidControlRequest", message)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise bad_request("body is not valid JSON") from None
    if not isinstance(body, dict):
        raise bad_request("body must be a JSON object")
    return body


def _number(body: dict[str, Any], key: str, *, required: bool = True) -> float | None:
    value = body.get(key)
    if value is None:
        if required:
            raise bad_request(f"'{key}' is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_request(f"'{key}' must be a number, got {value!r}")
    return float(value)


def _int(body: dict[str, Any], key: str, default: int | None = None) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"'{key}' must be an integer, got {value!r}")
    return value


def _underlying_uic(state: SimState, body: dict[str, Any]) -> int:
    if "uic" in body:
        uic = _int(body, "uic")
        if state.catalog.underlying(uic) is None:
            raise bad_request(f"unknown underlying uic {uic}")
        return uic
    symbol = body.get("symbol")
    if not isinstance(symbol, str):
        raise bad_request("give the underlying as 'uic' (int) or 'symbol' (e.g. \"US500.I\")")
    underlying = state.catalog.underlying_by_symbol(symbol)
    if underlying is None:
        raise bad_request(f"unknown underlying symbol {symbol!r}")
    return underlying.uic


def _after_change(state: SimState) -> None:
    """Apply a control change at once: run one market step (fills, settlement, listeners)."""
    state.step()


# --- clock -------------------------------------------------------------------------------------
async def get_clock(request: web.Request) -> web.Response:
    return json_response(get_state(request).clock.describe())


async def set_clock(request: web.Request) -> web.Response:
    """Body: {"now": ISO-8601 with offset} and/or {"advance_seconds": n} and/or {"speed": x}."""
    state = get_state(request)
    body = await _body(request)
    if "now" in body and "advance_seconds" in body:
        raise bad_request("give either 'now' or 'advance_seconds', not both")
    if "now" in body:
        try:
            at = datetime.fromisoformat(str(body["now"]).replace("Z", "+00:00"))
        except ValueError:
            raise bad_request(f"'now' is not an ISO-8601 datetime: {body['now']!r}") from None
        if at.tzinfo is None:
            raise bad_request("'now' needs a UTC offset (e.g. 2026-03-02T15:00:00Z)")
        state.clock.set(at)
    advance = _number(body, "advance_seconds", required=False)
    if advance is not None:
        if advance < 0:
            raise bad_request("'advance_seconds' must be >= 0 (use 'now' to go back)")
        state.clock.set(state.clock.now() + timedelta(seconds=advance))
    speed = _number(body, "speed", required=False)
    if speed is not None:
        if speed <= 0:
            raise bad_request("'speed' must be > 0")
        state.clock.set_speed(speed)
    _after_change(state)
    return json_response(state.clock.describe())


# --- market scripting --------------------------------------------------------------------------
async def get_market(request: web.Request) -> web.Response:
    state = get_state(request)
    now = state.clock.now()
    spots = {u.symbol: state.model.spot(u.uic, now) for u in state.catalog.underlyings()}
    return json_response({"now": now.isoformat(), "spots": spots})


async def move(request: web.Request) -> web.Response:
    """Body: {"symbol"|"uic", "target": level, "over_seconds": simulated seconds (0 = now)}."""
    state = get_state(request)
    body = await _body(request)
    uic = _underlying_uic(state, body)
    target = _number(body, "target")
    over = _number(body, "over_seconds", required=False) or 0.0
    assert target is not None
    if target <= 0 or over < 0:
        raise bad_request("'target' must be > 0 and 'over_seconds' >= 0")
    state.model.script_move(uic, target, over)
    _after_change(state)
    return json_response({"uic": uic, "target": target, "over_seconds": over})


async def pin(request: web.Request) -> web.Response:
    """Body: {"symbol"|"uic", "level": value} holds the level until released."""
    state = get_state(request)
    body = await _body(request)
    uic = _underlying_uic(state, body)
    level = _number(body, "level")
    assert level is not None
    if level <= 0:
        raise bad_request("'level' must be > 0")
    state.model.pin(uic, level)
    _after_change(state)
    return json_response({"uic": uic, "level": level})


async def release(request: web.Request) -> web.Response:
    """Body: {"symbol"|"uic"} releases a pin (the seeded path resumes)."""
    state = get_state(request)
    uic = _underlying_uic(state, await _body(request))
    state.model.pin(uic, None)
    _after_change(state)
    return json_response({"uic": uic, "level": None})


async def unpriced(request: web.Request) -> web.Response:
    """Body: {"symbol"|"uic", "unpriced": true|false}: the instrument's prices go away
    (`NoAccess` InfoPrices, no stream updates) or come back."""
    state = get_state(request)
    body = await _body(request)
    uic = _underlying_uic(state, body)
    gone = body.get("unpriced", True)
    if not isinstance(gone, bool):
        raise bad_request("'unpriced' must be true or false")
    if gone:
        state.unpriced.setdefault(uic, state.clock.now())
    else:
        state.unpriced.pop(uic, None)
    _after_change(state)
    return json_response({"uic": uic, "unpriced": gone})


async def precheck_refusal(request: web.Request) -> web.Response:
    """Body: {"error_code": "WouldExceedMargin"} makes every order pre-check answer that error
    (PreCheckResult Error) until {"error_code": null}; placement itself is unchanged."""
    state = get_state(request)
    code = (await _body(request)).get("error_code")
    if code is not None and (not isinstance(code, str) or not code):
        raise bad_request("'error_code' must be a non-empty string or null")
    state.margin_refusal = code
    return json_response({"error_code": code})


async def step(request: web.Request) -> web.Response:
    """Run one market step now (limit-order matching, settlement, streaming listeners)."""
    state = get_state(request)
    state.step()
    return json_response(state.clock.describe())


# --- faults ------------------------------------------------------------------------------------
async def add_fault(request: web.Request) -> web.Response:
    """Body: {"path_prefix", "kind": status|timeout|rate_limit, "count", "status", "hold_s",
    "then_process", "method"}."""
    state = get_state(request)
    body = await _body(request)
    prefix = body.get("path_prefix")
    kind = body.get("kind", "status")
    if not isinstance(prefix, str) or not isinstance(kind, str):
        raise bad_request("'path_prefix' (string) is required; 'kind' must be a string")
    method = body.get("method")
    if method is not None and not isinstance(method, str):
        raise bad_request("'method' must be a string like \"POST\"")
    try:
        rule = state.faults.add(
            prefix,
            kind,
            _int(body, "count", 1),
            status=_int(body, "status", 503),
            hold_s=_number(body, "hold_s", required=False) or 35.0,
            then_process=bool(body.get("then_process", False)),
            method=method,
        )
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    return json_response(rule.describe(), status=201)


async def list_faults(request: web.Request) -> web.Response:
    return json_response({"faults": get_state(request).faults.armed()})


async def clear_faults(request: web.Request) -> web.Response:
    return json_response({"cleared": get_state(request).faults.clear()})


# --- auth and limits ---------------------------------------------------------------------------
async def expire_tokens(request: web.Request) -> web.Response:
    """Body (optional): {"include_refresh": bool}. Every access token is expired now."""
    state = get_state(request)
    body = await _body(request)
    count = state.auth.expire_all(include_refresh=bool(body.get("include_refresh", False)))
    return json_response({"expired": count})


async def new_session(request: web.Request) -> web.Response:
    """A token pair for a new session without the OAuth browser step (tests, demos)."""
    return json_response(get_state(request).auth.issue_direct(), status=201)


async def set_token_lifetimes(request: web.Request) -> web.Response:
    """Body: {"token_lifetime_s"?, "refresh_token_lifetime_s"?} for tokens issued from now on."""
    state = get_state(request)
    body = await _body(request)
    try:
        state.auth.set_lifetimes(
            _number(body, "token_lifetime_s", required=False),
            _number(body, "refresh_token_lifetime_s", required=False),
        )
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    return json_response(
        {
            "token_lifetime_s": state.auth.token_lifetime_s,
            "refresh_token_lifetime_s": state.auth.refresh_token_lifetime_s,
        }
    )


async def set_rate_limits(request: web.Request) -> web.Response:
    """Body: {"enabled": bool}."""
    state = get_state(request)
    body = await _body(request)
    enabled = body.get("enabled")
    if not isinstance(enabled, bool):
        raise bad_request("'enabled' (true or false) is required")
    state.rate_limiter.enabled = enabled
    return json_response({"enabled": enabled})


# --- orders ------------------------------------------------------------------------------------
async def reject_next(request: web.Request) -> web.Response:
    """Body: {"error_code": "WouldExceedMargin", "message"?, "count"?: 1}."""
    state = get_state(request)
    body = await _body(request)
    code = body.get("error_code")
    if not isinstance(code, str) or not code:
        raise bad_request("'error_code' (e.g. \"WouldExceedMargin\") is required")
    message = body.get("message")
    count = _int(body, "count", 1)
    if count < 1:
        raise bad_request("'count' must be >= 1")
    state.exchange.directives.reject_next(code, str(message) if message else None, count)
    return json_response({"error_code": code, "count": count})


async def partial_next(request: web.Request) -> web.Response:
    """Body: {"fraction": 0.5 | "amount": 1, "rest_after_seconds"?: 5}: the next order fills only
    that part now; the rest fills after that many simulated seconds, or is cancelled if the
    order is ImmediateOrCancel. FillOrKill orders ignore the directive (all or nothing)."""
    state = get_state(request)
    body = await _body(request)
    fraction = _number(body, "fraction", required=False)
    amount = body.get("amount")
    if (fraction is None) == (amount is None):
        raise bad_request("give exactly one of 'fraction' (0..1) or 'amount' (contracts/shares)")
    if fraction is not None and not 0 < fraction < 1:
        raise bad_request("'fraction' must be strictly between 0 and 1")
    try:
        amount_dec = Decimal(str(amount)) if amount is not None else None
    except InvalidOperation:
        raise bad_request(f"'amount' must be a number, got {amount!r}") from None
    if amount_dec is not None and amount_dec <= 0:
        raise bad_request("'amount' must be > 0")
    rest_after = _number(body, "rest_after_seconds", required=False)
    rest_after = 5.0 if rest_after is None else rest_after
    if rest_after < 0:
        raise bad_request("'rest_after_seconds' must be >= 0")
    state.exchange.directives.partial_next(fraction, amount_dec, rest_after)
    return json_response({"fraction": fraction, "amount": amount, "rest_after_seconds": rest_after})


async def set_activity_lag(request: web.Request) -> web.Response:
    """Body: {"seconds": 0..60}: fill prices show in activities only after that many real s."""
    state = get_state(request)
    seconds = _number(await _body(request), "seconds")
    assert seconds is not None
    if not 0 <= seconds <= 60:
        raise bad_request("'seconds' must be within 0..60")
    state.exchange.activity_lag_s = seconds
    return json_response({"seconds": seconds})


async def assign(request: web.Request) -> web.Response:
    """Body: {"position_id": "...", "amount"?: contracts}: early-assign a short equity option."""
    state = get_state(request)
    body = await _body(request)
    position_id = body.get("position_id")
    if not isinstance(position_id, str):
        raise bad_request("'position_id' (string) is required")
    amount = body.get("amount")
    if amount is not None and (
        isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0
    ):
        raise bad_request("'amount' must be a positive integer number of contracts")
    try:
        result = state.exchange.assign_early(position_id, amount)
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    state.step()
    return json_response(result)


# --- stats -------------------------------------------------------------------------------------
async def stats(request: web.Request) -> web.Response:
    state = get_state(request)
    body = state.describe_stats()
    hub = request.app.get("streaming_hub")
    if hub is not None and hasattr(hub, "stats"):
        body["streaming"] = hub.stats()
    body["clock"] = state.clock.describe()
    return json_response(body)


def add_routes(app: web.Application) -> None:
    assert STATE_KEY in app
    r = app.router
    r.add_get(f"{PREFIX}/clock", get_clock)
    r.add_post(f"{PREFIX}/clock", set_clock)
    r.add_get(f"{PREFIX}/market", get_market)
    r.add_post(f"{PREFIX}/market/move", move)
    r.add_post(f"{PREFIX}/market/pin", pin)
    r.add_post(f"{PREFIX}/market/release", release)
    r.add_post(f"{PREFIX}/market/step", step)
    r.add_post(f"{PREFIX}/market/unpriced", unpriced)
    r.add_post(f"{PREFIX}/orders/precheck_refusal", precheck_refusal)
    r.add_post(f"{PREFIX}/faults", add_fault)
    r.add_get(f"{PREFIX}/faults", list_faults)
    r.add_delete(f"{PREFIX}/faults", clear_faults)
    r.add_post(f"{PREFIX}/auth/expire", expire_tokens)
    r.add_post(f"{PREFIX}/auth/session", new_session)
    r.add_post(f"{PREFIX}/auth/lifetimes", set_token_lifetimes)
    r.add_post(f"{PREFIX}/rate_limits", set_rate_limits)
    r.add_post(f"{PREFIX}/orders/reject_next", reject_next)
    r.add_post(f"{PREFIX}/orders/partial_next", partial_next)
    r.add_post(f"{PREFIX}/orders/activity_lag", set_activity_lag)
    r.add_post(f"{PREFIX}/assignments", assign)
    r.add_get(f"{PREFIX}/stats", stats)
