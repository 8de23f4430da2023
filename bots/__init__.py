"""The three CALYPSO trading bots."""
