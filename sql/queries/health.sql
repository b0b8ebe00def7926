-- name: health_write_probe
-- Readiness: a write the database must accept. It matches no row, and the caller rolls its
-- transaction back; a read-only file, mount, server or user refuses it all the same.
UPDATE schema_migrations SET `version` = `version` WHERE `version` < 0;
