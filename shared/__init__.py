"""CALYPSO shared package: broker client, runtime, calendars, config, and tooling."""
