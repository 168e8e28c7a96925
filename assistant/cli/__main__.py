"""Run the ``flowdraft`` command line as ``python -m assistant.cli``."""

from assistant.cli.main import main

main()
