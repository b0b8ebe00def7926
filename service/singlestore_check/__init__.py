"""`python -m service check-singlestore`: a one-command checklist for a real cluster.

Given DATABASE_URL for a SingleStore cluster it creates a scratch database (SCRATCH), applies
the migrations, runs every named query once with representative parameters, checks that a
nearest-neighbour search returns k rows (exactly and through the vector index), that 4-byte
text round-trips, that the session lock wait timeout is set and ends in a retryable error,
then prints a pass/fail table with the server version and drops the scratch database.

On another MySQL-protocol server (the tests' MariaDB) the SingleStore-only parts (vector
functions and indexes) are reported as skipped, each by name.
"""

from service.singlestore_check.run import SCRATCH, check_command, report, run_checks

__all__ = ["SCRATCH", "check_command", "report", "run_checks"]
