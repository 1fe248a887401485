-- the library (recognised models, readable by all) and the evaluation criteria
ALTER TABLE docs ADD COLUMN public BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE criteria (
   owner_kind TEXT PRIMARY KEY,
   criteria TEXT NOT NULL,
   updated_by TEXT NOT NULL,
   updated_at BIGINT NOT NULL
);
