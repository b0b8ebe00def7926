-- name: stores_upsert
-- Insert a store or refresh its name and area code.
INSERT INTO stores (store_id, store_name, area_code, updated_at)
VALUES (:store_id, :store_name, :area_code, :updated_at)
ON CONFLICT (store_id) DO UPDATE SET
    store_name = excluded.store_name,
    area_code = excluded.area_code,
    updated_at = excluded.updated_at
