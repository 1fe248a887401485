-- documents and the change feed
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE docs (
   id TEXT PRIMARY KEY,
   seq INTEGER NOT NULL,
   bytes BLOB NOT NULL,
   updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX docs_seq ON docs(seq);
