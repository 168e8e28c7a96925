"""The browser front door: the ASGI server, first-start setup and the Chainlit chat."""
