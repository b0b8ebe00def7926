"""The pieces of `make loadtest` (scripts/loadtest.py): the clients and what they saw, the proof
against the database, and the report."""
