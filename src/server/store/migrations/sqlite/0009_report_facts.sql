-- report facts: one row per document, written in the document's own transaction (see ReportStore),
-- and when each unit's devices last synced (completeness of a report)
CREATE TABLE report_facts (
   doc_id TEXT PRIMARY KEY,
   seq INTEGER NOT NULL,
   unit TEXT NOT NULL,
   format INTEGER NOT NULL,
   facts BLOB
);
CREATE TABLE unit_syncs (
   unit TEXT PRIMARY KEY,
   last_sync_ms INTEGER NOT NULL
);
