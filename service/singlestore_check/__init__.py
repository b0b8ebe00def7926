"""`python -m service check-singlestore`: a one-command checklist for a real cluster.

Given DATABASE_URL for a SingleStore cluster it creates a scratch database (SCRATCH), applies
the migrations (restricted keywords quoted as names; DDL in autocommit), runs every named
query once with representative parameters, checks that each nearest-neighbour search
returns k rows and, with EXPLAIN, that the indexed ones use the vector index and the exact
ones keep off it, that the `reembed` resize finishes when rerun after a crash, that 4-byte
text round-trips in utf8mb4 columns, and that the lock wait timeout is set (per session, or
the global value) and ends in a retryable error; then it prints a pass/fail table with the
server version and drops the scratch database.

On another MySQL-protocol server (the tests' MariaDB) the SingleStore-only parts (vector
functions and indexes) are reported as skipped, each by name.
"""

from service.singlestore_check.run import SCRATCH, check_command, report, run_checks

__all__ = ["SCRATCH", "check_command", "report", "run_checks"]
