-- The schema the engine tests run against (SQLite form).
CREATE TABLE items (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE,
    qty        INTEGER NOT NULL DEFAULT 0,
    created_at DATETIME NULL,
    day        DATE NULL,
    vec        BLOB NULL
);

CREATE TABLE counters (
    name  TEXT NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL
);

CREATE TABLE tags (
    item_id INTEGER NOT NULL REFERENCES items (id),
    tag     TEXT NOT NULL
);
