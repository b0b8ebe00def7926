-- The store master: a few thousand rows read by every job and joined by the visit reports,
-- so a REFERENCE table (a full copy on every leaf: joins stay local) in rowstore.
CREATE ROWSTORE REFERENCE TABLE stores (
    store_id   VARCHAR(64) NOT NULL,
    store_name VARCHAR(255) NOT NULL,
    area_code  VARCHAR(32) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (store_id),
    KEY stores_area (area_code)
);
