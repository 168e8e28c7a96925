"""Channels: each translates its medium to graph input and review interrupts to its own UI."""
