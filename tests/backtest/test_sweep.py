"""Sweeps: grid parsing and validation, and the same table from the local pool and Dask."""

from __future__ import annotations

from datetime import date

import pytest

from shared.backtest import sweep
from shared.backtest.runner import BacktestSpec, config_text
from shared.config.errors import ConfigError

BOT = "iron_fly_0dte"


def _base() -> BacktestSpec:
    text, file = config_text(BOT, None)
    return BacktestSpec(BOT, text, str(file), date(2015, 1, 6), date(2015, 1, 6), seed=1)


def test_the_grid_expands_to_every_combination_with_json_values() -> None:
    grid = sweep.parse_grid(["max_hold_minutes=30,60", "max_vix_entry=18.5,25"])
    specs = sweep.expand(_base(), grid)
    assert [dict(s.overrides) for s in specs] == [
        {"max_hold_minutes": 30, "max_vix_entry": 18.5},
        {"max_hold_minutes": 30, "max_vix_entry": 25},
        {"max_hold_minutes": 60, "max_vix_entry": 18.5},
        {"max_hold_minutes": 60, "max_vix_entry": 25},
    ]


@pytest.mark.parametrize("item", ["max_hold_minutes", "=1,2", "max_hold_minutes="])
def test_a_malformed_grid_item_is_refused_quoting_it(item: str) -> None:
    with pytest.raises(sweep.GridError, match="--grid"):
        sweep.parse_grid([item])


def test_a_combination_the_config_model_refuses_stops_the_sweep_before_any_run() -> None:
    grid = sweep.parse_grid(["max_hold_minutes=30,9999"])
    with pytest.raises(ConfigError, match="max_hold_minutes"):
        sweep.expand(_base(), grid)


def test_the_sweep_on_a_dask_local_cluster_gives_the_same_table_as_the_local_pool() -> None:
    distributed = pytest.importorskip("distributed")
    specs = sweep.expand(_base(), sweep.parse_grid(["max_hold_minutes=20,60"]))
    local = sweep.run_local(specs, None, workers=1)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:  # fmt: skip
        on_dask = sweep.run_dask(specs, None, cluster.scheduler_address)
    assert on_dask == local
    assert sum(row.trades for row in local) > 0
