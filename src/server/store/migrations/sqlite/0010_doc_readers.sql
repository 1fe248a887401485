-- who reads a document besides the readers of its owning unit (docs.unit) and, in the library,
-- everyone: for a contest, `u:<code>` for each unit in its rounds or with a team and
-- `@<username>` for each judge (doc::contest::readers), replaced by each write that sets them
CREATE TABLE doc_readers (
   doc_id TEXT NOT NULL,
   reader TEXT NOT NULL,
   PRIMARY KEY (doc_id, reader)
);
CREATE INDEX doc_readers_reader ON doc_readers (reader);
