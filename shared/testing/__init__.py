"""Test helpers shipped with the package: the probe strategy used by runtime tests and demos."""
