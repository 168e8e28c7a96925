"""Traces, metrics and business signals: what Flowdraft did, how fast, and how well.

``tracing`` sets up OpenTelemetry from the environment, ``metrics`` defines the Prometheus
metrics, ``turns`` traces chat turns, ``runs`` traces runs and connector calls, ``journal``
counts audit events, and ``stats`` computes the business signals from the app database.
"""
