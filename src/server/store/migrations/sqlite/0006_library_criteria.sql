-- the library (recognised models, readable by all) and the evaluation criteria
ALTER TABLE docs ADD COLUMN public INTEGER NOT NULL DEFAULT 0;
CREATE TABLE criteria (
   owner_kind TEXT PRIMARY KEY,
   criteria TEXT NOT NULL,
   updated_by TEXT NOT NULL,
   updated_at INTEGER NOT NULL
);
