//! The unit tree: rows as stored (possibly holding a cycle, after two imports that raced
//! before they were serialised) and CSV files as an administrator uploads them. Every walk of
//! the tree ends (`is_within`, `up_from`, `subtree`, `Access::new`); an import returns either a
//! valid tree — codes unique, every parent present, no cycle, no unit above its parent — or
//! row errors, never a partial or broken tree.
#![no_main]

use std::collections::HashSet;

use arbitrary::Arbitrary;
use danvan::domain::{Access, Grant, Level, Role, Unit, UnitKind, UnitTree};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Row {
    code: u8,
    parent: Option<u8>,
    kind: u8,
    level: u8,
}

#[derive(Arbitrary, Debug)]
struct Input {
    rows: Vec<Row>,
    grants: Vec<(u8, u8)>,
    queries: Vec<(u8, u8)>,
    csv: String,
}

fn code(n: u8) -> String {
    format!("U{}", n % 12)
}

fn rank(level: Level) -> usize {
    Level::ALL.iter().position(|l| *l == level).expect("a level")
}

/// The invariants of a valid tree: codes unique, every parent present, no unit above its
/// parent, and from every unit the parents lead to a root (no cycle).
fn is_valid(tree: &UnitTree) -> bool {
    let codes: HashSet<&str> = tree.units().map(|u| u.code.as_str()).collect();
    codes.len() == tree.len()
        && tree.units().all(|unit| {
            let parent_ok = unit.parent.as_ref().is_none_or(|p| tree.get(p).is_some_and(|p| rank(unit.level) <= rank(p.level)));
            let chain: Vec<&Unit> = tree.up_from(&unit.code).collect();
            parent_ok && chain.last().is_some_and(|u| u.parent.is_none())
        })
}

fuzz_target!(|input: Input| {
    let units: Vec<Unit> = input
        .rows
        .iter()
        .take(24)
        .map(|r| Unit {
            code: code(r.code),
            name: format!("Đơn vị {}", r.code % 12),
            kind: UnitKind::ALL[r.kind as usize % UnitKind::ALL.len()],
            level: Level::ALL[r.level as usize % Level::ALL.len()],
            parent: r.parent.map(code),
            cluster: None,
        })
        .collect();
    let tree = UnitTree::from_units(units, Vec::new());
    for (a, b) in input.queries.iter().take(16) {
        let _ = tree.is_within(&code(*a), &code(*b));
        assert!(tree.up_from(&code(*a)).count() <= tree.len());
        assert!(tree.subtree(&code(*a)).len() <= tree.len());
    }
    let grants: Vec<Grant> =
        input.grants.iter().take(8).map(|(u, r)| Grant { unit: code(*u), role: Role::ALL[*r as usize % Role::ALL.len()] }).collect();
    let access = Access::new(&grants, &tree);
    let _ = access.scope();
    // An import into a valid tree gives a valid tree (stored rows holding a cycle are the
    // walks' concern above, not the import's).
    if let Ok((imported, _)) = tree.import_csv(&input.csv) {
        assert!(!is_valid(&tree) || is_valid(&imported), "an import broke the tree: {:?}", imported.units().collect::<Vec<_>>());
    }
    if let Ok(fresh) = UnitTree::from_csv(&input.csv) {
        assert!(is_valid(&fresh), "a fresh import is not a valid tree: {:?}", fresh.units().collect::<Vec<_>>());
    }
});
