"""`calypso demo`: the simulator in-process, every implemented bot as a process, a live status
table and a summary from the journals. Modules: `catalog` (which bots), `home` (where their files
go), `process` (one bot process: `python -m shared.cli run BOT --env local`), `status`
(live table), `summary` (the end), `orchestrator` (the run)."""
