"""Configuration a request reads every time, kept in the process while it is unchanged.

Every submission reads the published questionnaire and rule set, the locations, the
assignment rules, the webhook endpoints, the follow-up sequences, the appointment
types and the practitioners' working time: rows that change far less often than
they are read. Each of those tables has a trigger (`config_stamp_trigger`, in its
app's migrations) that gives core_configstamp's one row a new random token in the
same transaction as the change. A request reads the token once, at its first cached
read, and takes a value from the cache when it was loaded under that token;
otherwise it loads it again.

The token is random rather than a counter: a change rolled back restores the old
token, which stands for the old contents again, and no two states share one. With
no row (a test emptied the table) nothing is cached.

Outside a request's scope (core.request_scope: a task, a command, a test calling a
service) nothing is cached: the value is loaded each time, as without this module.
Within one request the configuration is the one of its first cached read. Cached
values are shared by the threads of a process: callers read them and never change
them.
"""

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar, cast

from django.db import connection, migrations

Value = TypeVar("Value")

# The request's token: None until its first cached read, unset outside a request.
_NOT_IN_REQUEST = object()
_request_token: ContextVar[object] = ContextVar("config_token", default=_NOT_IN_REQUEST)
_cache: dict[tuple[str, Hashable], tuple[tuple[str, Hashable], Any]] = {}


def config_cached(
    key: Hashable, load: Callable[[], Value], *, variant: Hashable = None
) -> Value:
    """`load()`, or what it returned before under the database's current token
    (and the same `variant`: a value that also depends on, say, the day keeps one
    entry, replaced when the day changes)."""
    token = _request_token.get()
    if token is None:
        token = _token_read()
        _request_token.set(token)
    if token is _NOT_IN_REQUEST or not token:  # no stamp row: nothing cached
        return load()
    place = (_database(), key)
    stamp = (cast(str, token), variant)
    found = _cache.get(place)
    if found is not None and found[0] == stamp:
        return cast(Value, found[1])
    value = load()
    _cache[place] = (stamp, value)
    return value


def _token_read() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM core_configstamp WHERE id = 1")
        row = cursor.fetchone()
    return "" if row is None else str(row[0])


def _database() -> str:
    """Which database the tokens belong to (a test may point the ORM elsewhere)."""
    settings = connection.settings_dict
    return f"{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


@contextmanager
def config_request_scope() -> Iterator[None]:
    """Within it, cached reads share one token read (core.request_scope opens it
    around each request's view)."""
    opened = _request_token.set(None)
    try:
        yield
    finally:
        _request_token.reset(opened)


# The token's renewal, shared by every table's trigger (core 0004).
RENEW_FUNCTION = "core_configstamp_renew"
_RENEW = {
    "postgresql": """
        INSERT INTO core_configstamp (id, token)
        VALUES (1, md5(random()::text || clock_timestamp()))
        ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token
    """,
    "sqlite": """
        INSERT OR REPLACE INTO core_configstamp (id, token)
        VALUES (1, lower(hex(randomblob(16))))
    """,
}


def config_stamp_function() -> Any:
    """A RunPython step making the renewal function (PostgreSQL; SQLite's triggers
    carry the statement) and a first token for the configuration already there."""
    forwards = {
        "postgresql": [
            f"""
            CREATE OR REPLACE FUNCTION {RENEW_FUNCTION}() RETURNS trigger AS $$
            BEGIN
                {_RENEW["postgresql"]};
                RETURN NULL;
            END
            $$ LANGUAGE plpgsql
            """,
            _RENEW["postgresql"],
        ],
        "sqlite": [_RENEW["sqlite"]],
    }
    backwards = {"postgresql": [f"DROP FUNCTION {RENEW_FUNCTION}()"]}
    return migrations.RunPython(_run(forwards), _run(backwards))


def config_stamp_trigger(table: str, *, columns: tuple[str, ...] = ()) -> Any:
    """A RunPython step (and its undo): every change to `table` (to `columns` only,
    when given, for an UPDATE) renews the token."""
    name = f"{table}_configstamp"
    of = f" OF {', '.join(columns)}" if columns else ""
    forwards = {
        "postgresql": [
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"""
            CREATE TRIGGER {name}
            AFTER INSERT OR UPDATE{of} OR DELETE OR TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {RENEW_FUNCTION}()
            """,
        ],
        "sqlite": [
            f"""
            CREATE TRIGGER IF NOT EXISTS {name}_{operation.split()[0].lower()}
            AFTER {operation} ON {table} BEGIN {_RENEW["sqlite"]}; END
            """
            for operation in ("INSERT", f"UPDATE{of}", "DELETE")
        ],
    }
    backwards = {
        "postgresql": [f"DROP TRIGGER {name} ON {table}"],
        "sqlite": [
            f"DROP TRIGGER {name}_{operation}"
            for operation in ("insert", "update", "delete")
        ],
    }
    return migrations.RunPython(_run(forwards), _run(backwards))


def _run(statements: dict[str, list[str]]) -> Any:
    def step(apps: Any, schema_editor: Any) -> None:
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return step
