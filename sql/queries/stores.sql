-- name: stores_count
-- How many stores the store master holds.
SELECT COUNT(*) AS n FROM stores

-- name: stores_get
-- One store by its StoreID.
SELECT store_id, store_name, area_code FROM stores WHERE store_id = :store_id
