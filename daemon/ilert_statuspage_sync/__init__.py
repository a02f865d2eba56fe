"""Mirror iLert alerts onto Atlassian Statuspage incidents by polling."""

__version__ = "0.1.0"
