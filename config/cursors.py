"""One kept cursor per database connection, for the compiled statements of the hot requests.

`with connection.cursor() as cursor:` makes a psycopg cursor and Django's wrapper around it
for every statement and closes both after it: 5 % of a stage post's instructions (7.50 →
7.10 M with the cursor kept), 2–3 % of the order detail's and the customer list's.
`statement_cursor(connection)` gives the same wrapper (so errors become Django's, a broken
transaction is refused and `execute_wrapper` hooks run) around a cursor kept for as long as
the connection is the same one: a new connection — the next request's, from the pool — gets
a new cursor. Where Django logs queries (DEBUG, tests that
count them) it is a new `connection.cursor()` every time, as before.
"""

from django.db.backends.utils import CursorWrapper

_KEPT = "_orderdesk_kept_cursor"


class _KeptCursor(CursorWrapper):
    """A cursor wrapper that stays open at the end of a `with` block."""

    def __exit__(self, type, value, traceback):
        return None


def statement_cursor(connection) -> CursorWrapper:
    """A cursor for one statement, as a context manager (`with statement_cursor(c) as cur`)."""
    if connection.queries_logged or connection.vendor != "postgresql":
        return connection.cursor()
    connection.close_if_health_check_failed()
    kept = getattr(connection, _KEPT, None)
    raw = connection.connection
    if kept is not None and raw is not None and kept[0] is raw and not raw.closed:
        connection.validate_thread_sharing()
        return kept[1]
    connection.ensure_connection()
    with connection.wrap_database_errors:
        connection.validate_thread_sharing()
        cursor = _KeptCursor(connection.create_cursor(), connection)
    setattr(connection, _KEPT, (connection.connection, cursor))
    return cursor
