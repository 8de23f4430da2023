"""Backtests: the unchanged strategy classes driven through history in-process (`calypso backtest`).

`history` loads daily bars (the `arch` package's S&P 500 / NASDAQ / VIX data, or the user's
CSVs), `paths` bridges each day to 1-minute ticks, `market` prices the ticks and options with
the simulator's model, `engine` runs a strategy through the shared executor and journal,
`report` summarises the journal's trades, `sweep` runs grids of configs.
"""
