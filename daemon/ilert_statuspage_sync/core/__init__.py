"""Pure decisions over values: no I/O, no clock, no shell module (a test keeps it so)."""
