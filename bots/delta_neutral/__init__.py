"""delta_neutral bot package."""
