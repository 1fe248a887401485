//! A replica held in memory: the native stand-in for the browser's IndexedDB, used by tests and
//! benchmarks to run the real session code against a real server.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::convert::Infallible;

use automerge::AutoCommit;

use super::session::{Cursor, DocRecord, LocalDocs};

#[derive(Default)]
pub struct MemoryReplica {
    docs: RefCell<BTreeMap<String, DocRecord>>,
    cursor: RefCell<Cursor>,
    /// How many times a session found the server replaced (tests of what the browser resets).
    pub replaced: std::cell::Cell<usize>,
}

impl MemoryReplica {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores a local change, as the app does after an edit.
    pub fn put_local(&self, id: &str, doc: &mut AutoCommit) {
        let mut docs = self.docs.borrow_mut();
        let sync = docs.get(id).and_then(|r| r.sync.clone());
        docs.insert(id.to_string(), DocRecord { id: id.to_string(), doc: doc.save(), sync, dirty: true });
    }

    pub fn doc(&self, id: &str) -> Option<AutoCommit> {
        self.docs.borrow().get(id).and_then(|r| AutoCommit::load(&r.doc).ok())
    }

    pub fn record(&self, id: &str) -> Option<DocRecord> {
        self.docs.borrow().get(id).cloned()
    }

    pub fn ids(&self) -> Vec<String> {
        self.docs.borrow().keys().cloned().collect()
    }

    pub fn dirty_count(&self) -> usize {
        self.docs.borrow().values().filter(|r| r.dirty).count()
    }
}

impl LocalDocs for MemoryReplica {
    type Error = Infallible;

    async fn dirty_ids(&self) -> Result<Vec<String>, Infallible> {
        Ok(self.docs.borrow().values().filter(|r| r.dirty).map(|r| r.id.clone()).collect())
    }

    async fn all_ids(&self) -> Result<Vec<String>, Infallible> {
        Ok(self.ids())
    }

    async fn get(&self, id: &str) -> Result<Option<DocRecord>, Infallible> {
        Ok(self.docs.borrow().get(id).cloned())
    }

    async fn update_each<F>(&self, ids: &[String], mut f: F) -> Result<Vec<DocRecord>, Infallible>
    where
        F: FnMut(&str, Option<DocRecord>) -> Option<DocRecord>,
    {
        let mut docs = self.docs.borrow_mut();
        let mut written = Vec::new();
        for id in ids {
            if let Some(next) = f(id, docs.get(id).cloned()) {
                docs.insert(id.clone(), next.clone());
                written.push(next);
            }
        }
        Ok(written)
    }

    fn cursor(&self) -> Cursor {
        self.cursor.borrow().clone()
    }

    fn set_cursor(&self, cursor: &Cursor) {
        *self.cursor.borrow_mut() = cursor.clone();
    }

    async fn server_replaced(&self) -> Result<(), Infallible> {
        self.replaced.set(self.replaced.get() + 1);
        Ok(())
    }
}
