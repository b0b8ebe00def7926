"""Database errors of our own, so callers never import a driver to catch one."""


class DatabaseError(Exception):
    """Any failure reported by the database."""


class IntegrityError(DatabaseError):
    """A unique or not-null constraint refused a write."""


class DatabaseUnavailable(DatabaseError):
    """The database cannot be reached (down, restarting, connection lost)."""


class MigrationError(DatabaseError):
    """The migration history does not match the files in `sql/`."""
