//! Who may read and write which unit's models: computed from a user's grants and the unit tree.
//! No IO. The server enforces these rules on every request; the client uses the same rules only to
//! offer what will be accepted (e.g. which units a new model may belong to).
//!
//! The rules:
//! - a member (cán bộ) reads and writes the models of the unit they are granted, and only it;
//! - a reviewer (bình xét) reads the models of the unit's whole subtree and records the
//!   reviewer's steps of their lifecycle (recognise, return, commend…), not their content;
//! - an administrator (quản trị) manages the units and users of the subtree and reads its models.
//!
//! Nothing above or beside a grant is visible: a reviewer of a district sees its communes, not the
//! province nor the neighbouring district.

use std::collections::{BTreeMap, BTreeSet};

use super::Level;
use super::account::Role;
use super::unit::UnitTree;

/// One role held in one unit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Grant {
    pub unit: String,
    pub role: Role,
}

/// What one user may do, resolved against the current tree.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Access {
    read: BTreeSet<String>,
    write: BTreeSet<String>,
    review: BTreeSet<String>,
    manage: BTreeSet<String>,
    /// For each reviewed unit, the highest level among the reviewer grants covering it (the level
    /// of the granted unit): who may recognise at a level (imports of recognised models).
    review_level: BTreeMap<String, Level>,
    /// Every granted unit and the units above it: the organisers whose contests the user sees
    /// (a contest is its organiser's event for its whole subtree, `doc::contest::may_read`).
    within: BTreeSet<String>,
}

impl Access {
    pub fn new(grants: &[Grant], tree: &UnitTree) -> Access {
        let mut access = Access::default();
        for grant in grants {
            access.within.insert(grant.unit.clone());
            access.within.extend(tree.up_from(&grant.unit).map(|u| u.code.clone()));
            match grant.role {
                Role::Member => {
                    access.read.insert(grant.unit.clone());
                    access.write.insert(grant.unit.clone());
                }
                Role::Reviewer | Role::Admin => {
                    let below: Vec<String> = tree.subtree(&grant.unit).into_iter().map(|u| u.code.clone()).collect();
                    // A grant on a unit missing from the tree still covers that unit itself.
                    access.read.insert(grant.unit.clone());
                    access.read.extend(below.iter().cloned());
                    if grant.role == Role::Reviewer {
                        let level = tree.get(&grant.unit).map_or(Level::Grassroots, |u| u.level);
                        for unit in below.iter().chain([&grant.unit]) {
                            let kept = access.review_level.entry(unit.clone()).or_insert(level);
                            if level.rank() > kept.rank() {
                                *kept = level;
                            }
                        }
                    }
                    let role_set = if grant.role == Role::Admin { &mut access.manage } else { &mut access.review };
                    role_set.insert(grant.unit.clone());
                    role_set.extend(below);
                }
            }
        }
        access
    }

    pub fn can_read(&self, unit: &str) -> bool {
        self.read.contains(unit)
    }

    pub fn can_write(&self, unit: &str) -> bool {
        self.write.contains(unit)
    }

    /// Whether the user reviews the models of `unit` (a reviewer of it or of a unit above it).
    pub fn can_review(&self, unit: &str) -> bool {
        self.review.contains(unit)
    }

    /// The highest level at which the user reviews `unit` (`None`: not a reviewer of it): a
    /// reviewer granted at a district reviews its communes at district level.
    pub fn review_level(&self, unit: &str) -> Option<Level> {
        self.review_level.get(unit).copied()
    }

    /// What the user is for a model of `unit`, for the lifecycle rules.
    pub fn roles_for(&self, unit: &str) -> super::lifecycle::Roles {
        super::lifecycle::Roles { cadre: self.can_write(unit), reviewer: self.can_review(unit) }
    }

    /// Units whose models the user reviews, in code order.
    pub fn reviewable(&self) -> impl Iterator<Item = &str> {
        self.review.iter().map(String::as_str)
    }

    /// Whether the user administers `unit` (its users, its place in the tree).
    pub fn can_manage(&self, unit: &str) -> bool {
        self.manage.contains(unit)
    }

    /// Units whose models the user reads, in code order.
    pub fn readable(&self) -> impl Iterator<Item = &str> {
        self.read.iter().map(String::as_str)
    }

    /// Units in which the user registers models, in code order.
    pub fn writable(&self) -> impl Iterator<Item = &str> {
        self.write.iter().map(String::as_str)
    }

    /// Whether the user holds a grant in `unit` or in a unit below it.
    pub fn holds_grant_within(&self, unit: &str) -> bool {
        self.within.contains(unit)
    }

    /// The units of [`Access::holds_grant_within`], in code order.
    pub fn within(&self) -> impl Iterator<Item = &str> {
        self.within.iter().map(String::as_str)
    }

    pub fn manages_anything(&self) -> bool {
        !self.manage.is_empty()
    }

    /// A fingerprint of the readable set: when it changes (a new grant, units moved), a replica's
    /// feed cursor no longer describes what it should hold, and its feed starts again from 0.
    /// The units above the grants count too (whose contests the user reads): a commune moved
    /// under another district must receive that district's earlier contests.
    pub fn scope(&self) -> u32 {
        // FNV-1a: stable across processes and versions (std's hasher is not).
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for unit in &self.read {
            for b in unit.bytes().chain([0]) {
                hash ^= u64::from(b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        // Marked apart from the read units (a unit both read and above a grant counts twice).
        for unit in &self.within {
            for b in [1].into_iter().chain(unit.bytes()).chain([0]) {
                hash ^= u64::from(b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        // 32 bits keep the envelope small; a collision would only keep an old cursor.
        ((hash >> 32) as u32 ^ hash as u32).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TREE: &str = "code,name,kind,level,parent,cluster
CB,Tỉnh ủy Cao Bằng,tinh,tinh,,
HA,Huyện ủy Hà Quảng,huyen,huyen,CB,
BANBO,Xã Bản Bo,xa,co_so,HA,
NAPONG,Thôn Nà Pồng,thon,co_so,BANBO,
TRUONGSON,Xã Trường Sơn,xa,co_so,HA,
HOAAN,Huyện ủy Hòa An,huyen,huyen,CB,
DUCLONG,Xã Đức Long,xa,co_so,HOAAN,
";

    fn grant(unit: &str, role: Role) -> Grant {
        Grant { unit: unit.into(), role }
    }

    #[test]
    fn a_member_reads_and_writes_only_their_unit() {
        let tree = UnitTree::from_csv(TREE).unwrap();
        let a = Access::new(&[grant("BANBO", Role::Member)], &tree);
        assert!(a.can_read("BANBO") && a.can_write("BANBO"));
        for other in ["NAPONG", "HA", "CB", "TRUONGSON", "DUCLONG"] {
            assert!(!a.can_read(other) && !a.can_write(other), "{other}");
        }
        assert!(!a.manages_anything());
    }

    #[test]
    fn a_reviewer_sees_the_subtree_and_nothing_above_or_beside_it() {
        let tree = UnitTree::from_csv(TREE).unwrap();
        let r = Access::new(&[grant("HA", Role::Reviewer)], &tree);
        assert_eq!(r.readable().collect::<Vec<_>>(), ["BANBO", "HA", "NAPONG", "TRUONGSON"]);
        assert!(!r.can_read("CB") && !r.can_read("HOAAN") && !r.can_read("DUCLONG"));
        assert_eq!(r.writable().count(), 0, "reviewing is not registering");
        assert!(r.can_review("NAPONG") && r.can_review("HA") && !r.can_review("CB") && !r.can_review("DUCLONG"));
    }

    #[test]
    fn an_administrator_manages_and_reads_the_subtree() {
        let tree = UnitTree::from_csv(TREE).unwrap();
        let a = Access::new(&[grant("HOAAN", Role::Admin), grant("BANBO", Role::Member)], &tree);
        assert!(a.can_manage("HOAAN") && a.can_manage("DUCLONG") && !a.can_manage("HA") && !a.can_manage("BANBO"));
        assert!(a.can_read("DUCLONG") && a.can_write("BANBO") && !a.can_write("DUCLONG"));
        assert!(!a.can_review("DUCLONG"), "administering is not reviewing");
    }

    #[test]
    fn the_scope_changes_with_what_is_readable() {
        let tree = UnitTree::from_csv(TREE).unwrap();
        let one = Access::new(&[grant("BANBO", Role::Member)], &tree);
        let same = Access::new(&[grant("BANBO", Role::Member)], &tree);
        let more = Access::new(&[grant("BANBO", Role::Member), grant("TRUONGSON", Role::Member)], &tree);
        assert_eq!(one.scope(), same.scope());
        assert_ne!(one.scope(), more.scope());
        // "AB" + "C" must differ from "A" + "BC".
        let t = UnitTree::default();
        let ab_c = Access::new(&[grant("AB", Role::Member), grant("C", Role::Member)], &t);
        let a_bc = Access::new(&[grant("A", Role::Member), grant("BC", Role::Member)], &t);
        assert_ne!(ab_c.scope(), a_bc.scope());
    }

    #[test]
    fn a_grant_is_within_its_unit_and_every_unit_above_it() {
        let tree = UnitTree::from_csv(TREE).unwrap();
        let cadre = Access::new(&[grant("BANBO", Role::Member)], &tree);
        assert_eq!(cadre.within().collect::<Vec<_>>(), ["BANBO", "CB", "HA"]);
        assert!(!cadre.holds_grant_within("NAPONG") && !cadre.holds_grant_within("HOAAN") && !cadre.holds_grant_within("TRUONGSON"));
        // Bản Bo moved from Hà Quảng to Hòa An: it reads the same units, but its district's
        // contests are others, so its feed starts again.
        let moved = UnitTree::from_csv(&TREE.replace("BANBO,Xã Bản Bo,xa,co_so,HA,", "BANBO,Xã Bản Bo,xa,co_so,HOAAN,")).unwrap();
        let after = Access::new(&[grant("BANBO", Role::Member)], &moved);
        assert_eq!(after.readable().collect::<Vec<_>>(), cadre.readable().collect::<Vec<_>>());
        assert!(after.holds_grant_within("HOAAN") && !after.holds_grant_within("HA"));
        assert_ne!(after.scope(), cadre.scope());
    }
}
