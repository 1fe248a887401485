-- the organisation tree
CREATE TABLE units (
   code TEXT PRIMARY KEY,
   name TEXT NOT NULL,
   kind TEXT NOT NULL,
   level TEXT NOT NULL,
   parent TEXT,
   cluster TEXT
);
CREATE TABLE clusters (code TEXT PRIMARY KEY, name TEXT NOT NULL, head TEXT, deputy TEXT);
