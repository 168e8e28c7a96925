"""The automation runtime: approved versions become live automations whose runs are durable.

``models`` holds the JSON contracts (DESIGN.md, "Automations and runs") and the ``RunEngine``
protocol that channels, the CLI and the API call; the Temporal implementation and an
in-memory one for tests live beside it.
"""
