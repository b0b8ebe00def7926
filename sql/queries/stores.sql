-- name: stores_count
-- How many stores the store master holds.
SELECT COUNT(*) AS n FROM stores
