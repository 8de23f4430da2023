"""rolling_put_diagonal bot package."""
