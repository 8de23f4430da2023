"""iron_fly_0dte bot package."""
