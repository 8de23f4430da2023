"""`cs` service group: order activities (`/cs/v1/audit/orderactivities`)."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from shared.saxo_sim.errors import invalid_model_state, json_response
from shared.saxo_sim.portfolio import Activity
from shared.saxo_sim.portfolio_shapes import activity_row
from shared.saxo_sim.routes import get_state, int_param, query_param

ORDER_LOG_STATUSES = (
    "Placed",
    "Working",
    "Changed",
    "Fill",
    "FinalFill",
    "Cancelled",
    "Expired",
    "DoneForDay",
)


def _time_param(request: web.Request, name: str) -> datetime | None:
    raw = query_param(request, name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise invalid_model_state(
            {name: [f"The value '{raw}' is not a valid UTC date time."]}
        ) from None
    if value.tzinfo is None:
        raise invalid_model_state({name: [f"The value '{raw}' needs a UTC designator (Z)."]})
    return value


def _filtered(request: web.Request, activities: list[Activity]) -> list[Activity]:
    order_ids = query_param(request, "OrderId")
    wanted_ids = {part.strip() for part in order_ids.split(",")} if order_ids else None
    statuses_raw = query_param(request, "Status")
    statuses = {s.strip() for s in statuses_raw.split(",")} if statuses_raw else None
    if statuses is not None and not statuses <= set(ORDER_LOG_STATUSES):
        bad = sorted(statuses - set(ORDER_LOG_STATUSES))
        raise invalid_model_state({"Status": [f"Unknown order log status: {', '.join(bad)}"]})
    entry_type = (query_param(request, "EntryType") or "All").strip()
    if entry_type not in ("All", "Last"):
        raise invalid_model_state({"EntryType": ["EntryType must be All or Last."]})
    from_time = _time_param(request, "FromDateTime")
    to_time = _time_param(request, "ToDateTime")
    if entry_type == "Last" and to_time is not None:
        raise invalid_model_state(
            {"EntryType": ["EntryType=Last cannot be combined with ToDateTime."]}
        )
    rows = [
        a
        for a in activities
        if (wanted_ids is None or a.order_id in wanted_ids)
        and (from_time is None or a.activity_time >= from_time)
        and (to_time is None or a.activity_time <= to_time)
    ]
    if entry_type == "Last":
        latest: dict[str, Activity] = {}
        for activity in rows:
            latest[activity.order_id] = activity
        rows = sorted(latest.values(), key=lambda a: a.log_id)
    if statuses is not None:
        rows = [a for a in rows if a.status in statuses]
    return rows


async def order_activities(request: web.Request) -> web.Response:
    """GET /cs/v1/audit/orderactivities -> feed, oldest first; fill prices hidden during the lag."""
    state = get_state(request)
    rows = _filtered(request, state.exchange.activities)
    top = int_param(request, "$top")
    if top is not None:
        rows = rows[:top]
    now_real = state.real.monotonic()
    lag = state.exchange.activity_lag_s
    data = [
        activity_row(
            a,
            prices_visible=now_real - a.created_real >= lag,
            contract=state.catalog.option(a.uic),
        )
        for a in rows
    ]
    return json_response({"Data": data})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/openapi/cs/v1/audit/orderactivities", order_activities)
