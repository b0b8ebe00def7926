-- name: qa_ensure_user
-- Create the QA user's row if it is new.
INSERT INTO qa_users (username, open_session_id, created_at)
VALUES (:username, NULL, :now)
ON CONFLICT (username) DO NOTHING;
