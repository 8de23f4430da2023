"""Saxo WebSocket streaming: frame decoding, subscription state, and the socket thread."""
