-- Text that people type (store and product names, URLs, file names, errors that quote them)
-- is stored as utf8mb4: 4-byte characters (emoji) included. SingleStore's documented server
-- default, `character_set_server = utf8`, holds 3 bytes a character, so tables created under
-- it would refuse or mangle such text; MariaDB's default is utf8mb4, which hides that. New
-- clusters should set the global default first (docker/singlestore-init.sql does); this
-- declares it for the columns either way. Key columns are left as they are: store ids in the
-- store master and QA usernames are validated ASCII, and shard keys cannot be modified.
-- Rowstore tables only: image_results is columnstore, where ALTER TABLE ... MODIFY is not
-- confirmed, so 0002 declares utf8mb4 where it creates it (README: an existing database).

ALTER TABLE stores MODIFY store_name VARCHAR(255) CHARACTER SET utf8mb4 NOT NULL;
ALTER TABLE stores MODIFY area_code VARCHAR(32) CHARACTER SET utf8mb4 NOT NULL;

ALTER TABLE job_visits MODIFY store_id VARCHAR(64) CHARACTER SET utf8mb4 NOT NULL;
ALTER TABLE job_images MODIFY url TEXT CHARACTER SET utf8mb4 NOT NULL;

ALTER TABLE products MODIFY name VARCHAR(200) CHARACTER SET utf8mb4 NOT NULL;
ALTER TABLE snapshots MODIFY source VARCHAR(500) CHARACTER SET utf8mb4 NULL;
