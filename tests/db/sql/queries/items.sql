-- Named queries for the engine tests; one text serves both engines unless overridden.

-- name: insert_item
-- Add one item.
INSERT INTO items (name, qty, created_at, day, vec) VALUES (:name, :qty, :created_at, :day, :vec)

-- name: item_by_name
SELECT id, name, qty, created_at, day, vec FROM items WHERE name = :name

-- name: item_names
SELECT name FROM items ORDER BY name

-- name: item_count
SELECT COUNT(*) AS n FROM items

-- name: names_starting_with_a
-- A literal % (in a LIKE pattern and in this comment: 100%) in a query without parameters.
SELECT name FROM items WHERE name LIKE 'a%' ORDER BY name

-- name: set_qty
UPDATE items SET qty = :qty WHERE name = :name

-- name: delete_item
DELETE FROM items WHERE name = :name

-- name: insert_tag
INSERT INTO tags (item_id, tag) VALUES (:item_id, :tag)

-- name: insert_counter
INSERT INTO counters (name, value) VALUES (:name, :value)

-- name: counter_value
SELECT value FROM counters WHERE name = :name

-- name: set_counter
UPDATE counters SET value = :value WHERE name = :name

-- name: dialect
-- Overridden per engine, so a test can see which file won.
SELECT 'shared' AS source
