"""Building blocks of the strict bot configs; the public entry point is `shared.config_loader`."""
