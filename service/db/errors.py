"""Database errors of our own, so callers never import a driver to catch one."""


class DatabaseError(Exception):
    """Any failure reported by the database."""


class IntegrityError(DatabaseError):
    """A unique or not-null constraint refused a write."""


class LockConflict(DatabaseError):
    """The statement lost a lock conflict: chosen as a deadlock victim (1213), or it waited
    longer than the session's lock wait timeout (1205). SingleStore has no deadlock detector,
    so a lock cycle there always ends as a 1205. Only the statement was rolled back; retry the
    whole transaction."""


class DatabaseUnavailable(DatabaseError):
    """The database cannot be reached (down, restarting, connection lost)."""


class DatabaseReadOnly(DatabaseUnavailable):
    """The database answers but refuses writes: a read-only file or mount (SQLite), a server
    or database in read-only mode, or a user without write privileges (SingleStore). Nothing
    was written; retry once it accepts writes again."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"the database refuses writes ({detail})")


class MigrationError(DatabaseError):
    """The migration history does not match the files in `sql/`."""
