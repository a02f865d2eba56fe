"""Mirror iLert alerts onto Atlassian Statuspage incidents by polling."""

# The release's number: CHANGELOG.md's newest release heading, whose schema is the newest
# migration (tests/docs/test_changelog.py); pyproject.toml reads it from here.
__version__ = "0.3.0"
