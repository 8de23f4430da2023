"""The only code that speaks to Saxo OpenAPI: transport, Saxo-shaped schemas, pure parsing into
`shared.domain` types, and the `SaxoClient` facade (see `client.py`)."""
