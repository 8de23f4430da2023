"""The `calypso` operator command."""
