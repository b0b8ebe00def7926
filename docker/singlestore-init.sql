-- Run once by the singlestoredb-dev image on first start (mounted at /init.sql; it writes
-- /data/.init.sql.done and skips the file afterwards). The image reports healthy only after this
-- has run, so the app's `migrate` always finds the database. Tables come from sql/singlestore/.
--
-- utf8mb4 (4-byte UTF-8: emoji) for every table created from now on; SingleStore's documented
-- default is the 3-byte `utf8`. A session may not differ from the global value (8.9 and
-- later), so it is set globally, before the database and its tables exist.
SET GLOBAL character_set_server = 'utf8mb4';

-- The row-lock wait the app asks for on each connection (DB_LOCK_WAIT_TIMEOUT, 5 s), also set
-- globally: should the server refuse the session setting, this is the value that applies
-- (the docs advise setting globally a variable that must reach the leaves).
SET GLOBAL lock_wait_timeout = 5;

-- After a global change to a session variable the docs ask for the pooled connections to the
-- leaves to be reset, so that they take the new values. (On a cluster with several
-- aggregators, run it on each: it resets only the pools of the node it runs on.)
FLUSH CONNECTION POOLS;

CREATE DATABASE IF NOT EXISTS retail_pulse;
