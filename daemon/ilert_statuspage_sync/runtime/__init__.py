"""Process-wide facilities every layer may use: logging and redaction, the stop flag, deadlines."""
