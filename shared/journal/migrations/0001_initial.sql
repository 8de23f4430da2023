-- CALYPSO journal, schema version 1. Datetimes are ISO 8601 UTC text
-- (YYYY-MM-DDTHH:MM:SS.ffffff+00:00, fixed width, so text order is time order);
-- money and prices are Decimal text (never REAL); JSON columns hold objects.

CREATE TABLE order_intents (
    id          INTEGER PRIMARY KEY,
    request_id  TEXT    NOT NULL UNIQUE,
    bot         TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    trade_id    INTEGER REFERENCES trades (trade_id),
    payload     TEXT    NOT NULL CHECK (json_valid(payload)),
    status      TEXT    NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sent', 'filled', 'failed', 'unknown')),
    order_id    TEXT,
    error       TEXT,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);
CREATE INDEX order_intents_open ON order_intents (status)
    WHERE status IN ('pending', 'sent', 'unknown');

CREATE TABLE orders (
    order_id     TEXT    PRIMARY KEY,
    request_id   TEXT    REFERENCES order_intents (request_id),
    uic          INTEGER NOT NULL,
    side         TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    open_close   TEXT    NOT NULL CHECK (open_close IN ('open', 'close')),
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    order_type   TEXT    NOT NULL,
    limit_price  TEXT,
    status       TEXT    NOT NULL,
    placed_at    TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    payload      TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(payload))
);

CREATE TABLE trades (
    trade_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    bot          TEXT    NOT NULL,
    label        TEXT    NOT NULL DEFAULT '',
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    opened_at    TEXT    NOT NULL,
    closed_at    TEXT,
    exit_reason  TEXT,
    CHECK ((closed_at IS NULL) = (exit_reason IS NULL)),
    CHECK (closed_at IS NULL OR closed_at >= opened_at)
);
CREATE INDEX trades_opened_at ON trades (opened_at);
CREATE INDEX trades_closed_at ON trades (closed_at);

CREATE TABLE fills (
    id              INTEGER PRIMARY KEY,
    trade_id        INTEGER NOT NULL REFERENCES trades (trade_id),
    leg             TEXT    NOT NULL,
    uic             INTEGER NOT NULL,
    side            TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    open_close      TEXT    NOT NULL CHECK (open_close IN ('open', 'close')),
    price           TEXT    NOT NULL,
    quantity        INTEGER NOT NULL CHECK (quantity > 0),
    multiplier      INTEGER NOT NULL CHECK (multiplier > 0),
    commission_usd  TEXT    NOT NULL,
    filled_at       TEXT    NOT NULL,
    simulated       INTEGER NOT NULL CHECK (simulated IN (0, 1)),
    order_id        TEXT,
    execution_id    TEXT    UNIQUE
);
CREATE INDEX fills_trade ON fills (trade_id);

CREATE TABLE bot_state (
    bot         TEXT PRIMARY KEY,
    state       TEXT NOT NULL,
    payload     TEXT NOT NULL CHECK (json_valid(payload)),
    updated_at  TEXT NOT NULL
);

CREATE TABLE breaker_state (
    bot         TEXT PRIMARY KEY,
    payload     TEXT NOT NULL CHECK (json_valid(payload)),
    updated_at  TEXT NOT NULL
);

-- The latest broker positions snapshot (replaced whole); positions_snapshot says when.
CREATE TABLE positions (
    position_key  TEXT    PRIMARY KEY,
    uic           INTEGER NOT NULL,
    asset_type    TEXT    NOT NULL,
    quantity      INTEGER NOT NULL,
    open_price    TEXT,
    description   TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE positions_snapshot (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    taken_at  TEXT    NOT NULL
);

CREATE TABLE daily_pnl (
    day               TEXT    PRIMARY KEY,
    realized_pnl_usd  TEXT    NOT NULL,
    commissions_usd   TEXT    NOT NULL,
    trades_closed     INTEGER NOT NULL,
    winners           INTEGER NOT NULL,
    losers            INTEGER NOT NULL,
    updated_at        TEXT    NOT NULL
);

CREATE TABLE safety_events (
    id           INTEGER PRIMARY KEY,
    bot          TEXT NOT NULL,
    event        TEXT NOT NULL,
    description  TEXT NOT NULL,
    details      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details)),
    occurred_at  TEXT NOT NULL
);

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    kind             TEXT    NOT NULL,
    payload          TEXT    NOT NULL CHECK (json_valid(payload)),
    idempotency_key  TEXT    NOT NULL UNIQUE,
    created_at       TEXT    NOT NULL,
    delivered_at     TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT
);
CREATE INDEX outbox_pending ON outbox (id) WHERE delivered_at IS NULL;
