"""Every SQL statement: tables, queries, the audit trail, database setup and diagnosis."""
