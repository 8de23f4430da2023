"""Local Saxo OpenAPI simulator: market model, instruments, pricing, clock, server and streaming.

Kept import-free so that `import shared.saxo_sim.<module>` never drags in aiohttp or numpy
unless that module needs them.
"""
