-- report facts: one row per document, written in the document's own transaction (see ReportStore),
-- and when each unit's devices last synced (completeness of a report)
CREATE TABLE report_facts (
   doc_id TEXT PRIMARY KEY,
   seq BIGINT NOT NULL,
   unit TEXT NOT NULL,
   format INT NOT NULL,
   facts BYTEA
);
CREATE TABLE unit_syncs (
   unit TEXT PRIMARY KEY,
   last_sync_ms BIGINT NOT NULL
);
