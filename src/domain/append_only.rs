//! The one rule every append-only record of a model follows (lifecycle steps, commendations,
//! replication points, the activity log, evaluation sheets): what a change may do to such a list.
//!
//! An automerge list merges concurrent appends by interleaving them (two devices that appended
//! offline after the same entry end up with both entries, in an order fixed by their operation
//! ids), so a legitimate `after` is not always `before` followed by new entries: it is `before`
//! with new entries inserted anywhere, every old entry unchanged and in its old order. Each entry
//! carries an id made by the device that wrote it; ids are what the rules and the history refer
//! to, so every id in the list must be unique — a new entry that reuses an old id is a forgery
//! (it would pass as "already there"), never a merge.

/// An entry of an append-only list: something with the id its author's device gave it.
pub trait Entry {
    fn entry_id(&self) -> &str;
}

/// Why a change to an append-only list is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendError {
    /// Two entries carry the same id.
    DuplicateId(String),
    /// An entry that was there is missing, changed, or moved.
    Rewritten,
}

/// The entries `after` adds to `before`, in list order, when `after` is `before` with new
/// entries inserted (each old entry present, equal, in the same relative order; every id in
/// `after` unique). `before` itself is trusted (it is what the server stored).
pub fn appended<'a, T: Entry + PartialEq>(before: &[T], after: &'a [T]) -> Result<Vec<&'a T>, AppendError> {
    unique_ids(after)?;
    let mut old = before.iter().peekable();
    let mut new = Vec::new();
    for entry in after {
        match old.peek() {
            Some(o) if *o == entry => {
                old.next();
            }
            // Ids are unique in `after`, so an entry with an old id that is not equal to the old
            // entry at this place has been changed or moved.
            _ if before.iter().any(|o| o.entry_id() == entry.entry_id()) => return Err(AppendError::Rewritten),
            _ => new.push(entry),
        }
    }
    if old.next().is_some() {
        return Err(AppendError::Rewritten);
    }
    Ok(new)
}

/// Every id in `list` appears once.
pub fn unique_ids<T: Entry>(list: &[T]) -> Result<(), AppendError> {
    let mut seen = std::collections::HashSet::with_capacity(list.len());
    match list.iter().find(|e| !seen.insert(e.entry_id())) {
        Some(dup) => Err(AppendError::DuplicateId(dup.entry_id().to_string())),
        None => Ok(()),
    }
}

impl AppendError {
    /// The sentence shown to the person whose change was refused; `what` names the record
    /// ("bước", "khen thưởng", …) and `rewritten` is the list's own sentence for edits.
    pub fn message(&self, what: &str, rewritten: &str) -> String {
        match self {
            AppendError::DuplicateId(id) => {
                format!("Hai {what} mang cùng mã “{}”; mỗi {what} phải có mã riêng, thay đổi này không được nhận.", short(id))
            }
            AppendError::Rewritten => rewritten.to_string(),
        }
    }
}

/// An id as shown in a message: attacker-chosen, so bounded.
fn short(id: &str) -> String {
    id.chars().take(40).collect()
}

/// Latest time a new entry may carry, given the server's clock: devices' clocks drift, so a
/// little ahead is accepted; far ahead would let an entry sort after everything written later.
pub const MAX_CLOCK_AHEAD_MS: i64 = 60 * 60 * 1000;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone, PartialEq)]
    struct E {
        id: String,
        body: u8,
    }

    impl Entry for E {
        fn entry_id(&self) -> &str {
            &self.id
        }
    }

    fn e(id: &str, body: u8) -> E {
        E { id: id.into(), body }
    }

    #[test]
    fn new_entries_may_be_inserted_anywhere_but_old_ones_stay_as_they_were() {
        let before = [e("a", 1), e("b", 2)];
        assert_eq!(appended(&before, &[e("a", 1), e("b", 2), e("c", 3)]).unwrap(), [&e("c", 3)]);
        // A concurrent append merged in before the other device's last entry.
        assert_eq!(appended(&before, &[e("a", 1), e("c", 3), e("b", 2)]).unwrap(), [&e("c", 3)]);
        assert_eq!(appended(&before, &[e("a", 1)]), Err(AppendError::Rewritten));
        assert_eq!(appended(&before, &[e("a", 1), e("b", 9)]), Err(AppendError::Rewritten));
        assert_eq!(appended(&before, &[e("b", 2), e("a", 1)]), Err(AppendError::Rewritten));
    }

    #[test]
    fn an_entry_that_reuses_an_old_id_is_refused() {
        // The attack: a cadre appends a forged step under the id of their own earlier step.
        let before = [e("start", 1)];
        assert_eq!(appended(&before, &[e("start", 1), e("start", 7)]), Err(AppendError::DuplicateId("start".into())));
        assert_eq!(appended(&before, &[e("start", 7), e("start", 1)]), Err(AppendError::DuplicateId("start".into())));
        assert_eq!(appended(&[], &[e("x", 1), e("x", 1)]), Err(AppendError::DuplicateId("x".into())));
    }

    /// A change to a list, as a modified client could make it.
    #[derive(Debug, Clone)]
    enum Edit {
        Insert { at: usize, id: u8, body: u8 },
        Remove { at: usize },
        Change { at: usize, body: u8 },
        Swap { at: usize },
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            4 => (any::<usize>(), 0u8..12, any::<u8>()).prop_map(|(at, id, body)| Edit::Insert { at, id, body }),
            1 => any::<usize>().prop_map(|at| Edit::Remove { at }),
            1 => (any::<usize>(), any::<u8>()).prop_map(|(at, body)| Edit::Change { at, body }),
            1 => any::<usize>().prop_map(|at| Edit::Swap { at }),
        ]
    }

    fn apply(list: &mut Vec<E>, edit: &Edit) {
        let n = list.len();
        match *edit {
            Edit::Insert { at, id, body } => list.insert(at % (n + 1), e(&id.to_string(), body)),
            Edit::Remove { at } if n > 0 => {
                list.remove(at % n);
            }
            Edit::Change { at, body } if n > 0 => list[at % n].body = body,
            Edit::Swap { at } if n > 1 => list.swap(at % (n - 1), at % (n - 1) + 1),
            _ => {}
        }
    }

    /// The rule said another way: dropping from `after` every entry whose id is not in `before`
    /// leaves exactly `before`, and no id appears twice.
    fn allowed(before: &[E], after: &[E]) -> bool {
        let ids: std::collections::HashSet<&str> = after.iter().map(|x| x.id.as_str()).collect();
        let kept: Vec<&E> = after.iter().filter(|x| before.iter().any(|o| o.id == x.id)).collect();
        ids.len() == after.len() && kept.len() == before.len() && kept.iter().zip(before).all(|(k, o)| *k == o)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn only_appends_of_fresh_ids_pass(size in 0usize..6, edits in prop::collection::vec(edit(), 0..6)) {
            let before: Vec<E> = (0..size).map(|i| e(&i.to_string(), i as u8)).collect();
            let mut after = before.clone();
            for edit in &edits {
                apply(&mut after, edit);
            }
            let result = appended(&before, &after);
            prop_assert_eq!(result.is_ok(), allowed(&before, &after), "before {:?} after {:?}", before, after);
            if let Ok(new) = result {
                // Exactly the entries that were not there, each once.
                let fresh: Vec<&E> = after.iter().filter(|x| !before.iter().any(|o| o.id == x.id)).collect();
                prop_assert_eq!(new, fresh);
            }
        }
    }
}
