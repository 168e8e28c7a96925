"""The JSON API (tickets in, status out) and the CLI commands that manage its tokens."""
