"""The generated documentation tables (configuration reference, log events)."""
