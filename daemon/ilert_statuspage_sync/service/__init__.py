"""The long-running service: leadership, the poll loop, notify, health, metrics, wiring."""
