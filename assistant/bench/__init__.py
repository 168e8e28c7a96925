"""Benchmarks behind ``flowdraft bench``: each prints its figures against a floor measured in
the same run (drafting, runs, the browser, Slack, tickets, memory, observability overhead)."""
