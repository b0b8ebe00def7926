-- The store master: which stores exist, their names and area codes (`load-stores`, `seed`).
CREATE TABLE stores (
    store_id   TEXT PRIMARY KEY,
    store_name TEXT NOT NULL,
    area_code  TEXT NOT NULL,
    updated_at DATETIME NOT NULL
);

CREATE INDEX stores_area ON stores (area_code);
