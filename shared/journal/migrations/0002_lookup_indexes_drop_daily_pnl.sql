-- CALYPSO journal, schema version 2.

-- daily_pnl repeated what trades and fills already hold: it was rewritten on every fill and
-- close and nothing read it. Daily P&L is computed from the fills (Journal.daily_pnl).
DROP TABLE daily_pnl;

-- Lookups the trading loop makes without reading the whole trade history: "was this intent
-- already entered" (Journal.has_trade_labelled) and "has this bot traded this instrument"
-- (Journal.traded_uics).
CREATE INDEX trades_label ON trades (label);
CREATE INDEX fills_uic ON fills (uic);
