"""``demo``: the lifecycle played against the built-in simulators."""
