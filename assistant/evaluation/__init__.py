"""Offline evaluation of the assistant against cases kept in the repository."""
