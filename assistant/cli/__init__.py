"""The ``flowdraft`` command line: the app and its own commands in ``main``, the command
groups in ``runs`` (automations, runs, inbox) and ``tokens_and_tickets``, what they share
in ``shared``."""

from assistant.cli.main import app, main

__all__ = ["app", "main"]
