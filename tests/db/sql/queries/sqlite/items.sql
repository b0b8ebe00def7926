-- name: dialect
SELECT 'sqlite' AS source

-- name: packed_dot
SELECT DOT_PRODUCT(vec, JSON_ARRAY_PACK(:query)) AS score FROM items WHERE name = :name
