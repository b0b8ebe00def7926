-- name: dialect
SELECT 'singlestore' AS source

-- name: sleep
SELECT SLEEP(:seconds) AS slept

-- name: connection_id
SELECT CONNECTION_ID() AS id
