-- documents and the change feed
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE docs (
   id TEXT PRIMARY KEY,
   seq BIGINT NOT NULL UNIQUE,
   bytes BYTEA NOT NULL,
   updated_at BIGINT NOT NULL
);
CREATE TABLE feed_clock (one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one), seq BIGINT NOT NULL);
INSERT INTO feed_clock (one, seq) VALUES (TRUE, 0);
