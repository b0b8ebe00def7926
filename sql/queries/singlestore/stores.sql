-- name: stores_upsert
-- Insert a store or refresh its name and area code (the driver batches these VALUES rows).
INSERT INTO stores (store_id, store_name, area_code, updated_at)
VALUES (:store_id, :store_name, :area_code, :updated_at)
ON DUPLICATE KEY UPDATE
    store_name = VALUES(store_name),
    area_code = VALUES(area_code),
    updated_at = VALUES(updated_at)
