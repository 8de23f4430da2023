"""Helpers of the bot runtime: tick queue, signals, simulator clock, snapshots, health lines."""
