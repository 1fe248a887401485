//! The organisation tree (đơn vị) and emulation clusters (cụm thi đua), and importing them from CSV.
//!
//! The tree is data, not code: any depth, the district level optional (abolished in most places
//! since 2025, still present in older records). No IO: the caller passes the file's text.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::{Level, fold};

/// What kind of body a unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// Tỉnh ủy / thành ủy and its Ban Dân vận.
    ProvinceCommittee,
    /// Huyện ủy / quận ủy (historical since 2025 in most places).
    DistrictCommittee,
    /// Xã, phường, đặc khu.
    Commune,
    /// Thôn, bản, ấp, tổ dân phố.
    Village,
    /// Cơ quan, sở, ban, ngành.
    Office,
    /// Trường học.
    School,
    /// Quân đội, công an.
    ArmedForces,
    /// Mặt trận và các đoàn thể (Hội Nông dân, Hội Phụ nữ, Đoàn Thanh niên, Hội Cựu chiến binh…).
    MassOrganisation,
}

impl UnitKind {
    pub const ALL: [UnitKind; 8] = [
        UnitKind::ProvinceCommittee,
        UnitKind::DistrictCommittee,
        UnitKind::Commune,
        UnitKind::Village,
        UnitKind::Office,
        UnitKind::School,
        UnitKind::ArmedForces,
        UnitKind::MassOrganisation,
    ];

    pub fn code(self) -> &'static str {
        match self {
            UnitKind::ProvinceCommittee => "tinh",
            UnitKind::DistrictCommittee => "huyen",
            UnitKind::Commune => "xa",
            UnitKind::Village => "thon",
            UnitKind::Office => "co_quan",
            UnitKind::School => "truong_hoc",
            UnitKind::ArmedForces => "luc_luong_vu_trang",
            UnitKind::MassOrganisation => "doan_the",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            UnitKind::ProvinceCommittee => "Tỉnh/thành phố",
            UnitKind::DistrictCommittee => "Huyện/quận",
            UnitKind::Commune => "Xã/phường",
            UnitKind::Village => "Thôn/bản/tổ dân phố",
            UnitKind::Office => "Cơ quan",
            UnitKind::School => "Trường học",
            UnitKind::ArmedForces => "Lực lượng vũ trang",
            UnitKind::MassOrganisation => "Mặt trận, đoàn thể",
        }
    }

    /// A code or a label as people type it in a spreadsheet ("Xã/phường", "xa phuong", "xa").
    pub fn parse(text: &str) -> Option<UnitKind> {
        let t = fold(text.trim());
        Self::ALL.into_iter().find(|k| t == k.code() || t == fold(k.label()) || t == fold(&k.code().replace('_', " ")))
    }
}

/// A level as people type it: its code, its label, or the usual short names ("tỉnh", "cơ sở").
pub(crate) fn parse_level(text: &str) -> Option<Level> {
    let t = fold(text.trim()).replace('_', " ");
    let t = t.strip_prefix("cap ").unwrap_or(&t);
    let aliases: [(Level, &[&str]); 4] = [
        (Level::Grassroots, &["co so"]),
        (Level::District, &["huyen", "quan", "huyen/quan"]),
        (Level::Province, &["tinh", "thanh pho", "tinh/thanh pho"]),
        (Level::Central, &["trung uong"]),
    ];
    aliases.into_iter().find(|(_, names)| names.contains(&t)).map(|(l, _)| l)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// Stable identifier chosen by the organisation (e.g. "BR-XA-BANBO").
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub level: Level,
    /// `None` for a root (a province, or the central level).
    pub parent: Option<String>,
    pub cluster: Option<String>,
}

/// A group of peer units that compete and share experience, led by a head and a deputy unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    pub code: String,
    pub name: String,
    pub head: Option<String>,
    pub deputy: Option<String>,
}

/// A problem with one row of an imported file (row 1 is the header).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Dòng {row}: {message}")]
pub struct RowError {
    pub row: usize,
    pub message: String,
}

/// What an import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// The file's rows, each checked on its own (codes, names, kinds, levels, duplicates).
struct Parsed {
    rows: Vec<(usize, Unit)>,
    errors: Vec<RowError>,
    /// Every code the file names, including rows with errors (so a child of a bad row is not
    /// reported a second time for a missing parent).
    codes: std::collections::HashSet<String>,
}

fn parse_rows(text: &str) -> Result<Parsed, Vec<RowError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text); // Excel's UTF-8 mark
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let header_error = |message: String| vec![RowError { row: 1, message }];
    let headers = reader.headers().map_err(|e| header_error(format!("không đọc được dòng tiêu đề: {e}")))?.clone();
    let mut at = [usize::MAX; 6];
    for (i, h) in headers.iter().enumerate() {
        let h = fold(h).replace(['_', '-'], " ");
        if let Some(c) = COLUMNS.iter().position(|(_, names)| names.contains(&h.as_str())) {
            at[c] = i;
        }
    }
    let missing: Vec<&str> = (0..4).filter(|&c| at[c] == usize::MAX).map(|c| COLUMNS[c].0).collect();
    if !missing.is_empty() {
        return Err(header_error(format!(
            "thiếu cột {} (cần các cột: code/mã, name/tên, kind/loại, level/cấp, parent/mã cấp trên, cluster/cụm)",
            missing.join(", ")
        )));
    }

    let mut errors = Vec::new();
    let mut rows: Vec<(usize, Unit)> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError { row, message: format!("không đọc được: {e}") });
                continue;
            }
        };
        if record.iter().all(|f| f.is_empty()) {
            continue;
        }
        let cell = |c: usize| if at[c] == usize::MAX { "" } else { record.get(at[c]).unwrap_or("") };
        let mut fail = |message: String| errors.push(RowError { row, message });
        let code = cell(0).to_string();
        if code.is_empty() {
            fail("thiếu mã đơn vị.".into());
            continue;
        }
        if !valid_code(&code) {
            fail(format!("mã “{code}” không hợp lệ (chỉ dùng chữ không dấu, số, “-”, “_”, “.”; tối đa 40 ký tự)."));
            continue;
        }
        if let Some(first) = seen.get(&code) {
            fail(format!("mã “{code}” trùng với dòng {first}."));
            continue;
        }
        seen.insert(code.clone(), row);
        let name = cell(1).to_string();
        if name.is_empty() {
            fail(format!("đơn vị “{code}” chưa có tên."));
        }
        let kind = UnitKind::parse(cell(2));
        if kind.is_none() {
            let accepted: Vec<&str> = UnitKind::ALL.iter().map(|k| k.label()).collect();
            fail(format!("loại đơn vị “{}” không hợp lệ; dùng một trong: {}.", cell(2), accepted.join("; ")));
        }
        let level = parse_level(cell(3));
        if level.is_none() {
            fail(format!("cấp “{}” không hợp lệ; dùng: cơ sở, huyện, tỉnh, trung ương.", cell(3)));
        }
        let parent = Some(cell(4).to_string()).filter(|p| !p.is_empty());
        if parent.as_deref() == Some(code.as_str()) {
            fail(format!("đơn vị “{code}” không thể là cấp trên của chính nó."));
            continue;
        }
        let cluster = Some(cell(5).to_string()).filter(|c| !c.is_empty());
        if let (Some(kind), Some(level)) = (kind, level) {
            if !name.is_empty() {
                rows.push((row, Unit { code, name, kind, level, parent, cluster }));
            }
        }
    }

    Ok(Parsed { rows, errors, codes: seen.into_keys().collect() })
}

/// A valid unit tree: codes unique, every parent present, no cycles, no unit above its parent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitTree {
    units: BTreeMap<String, Unit>,
    clusters: BTreeMap<String, Cluster>,
    children: HashMap<String, Vec<String>>,
}

/// Column names accepted in the header row, folded (no diacritics, lower case), by column.
const COLUMNS: [(&str, &[&str]); 6] = [
    ("code", &["code", "ma", "ma don vi"]),
    ("name", &["name", "ten", "ten don vi"]),
    ("kind", &["kind", "loai", "loai don vi"]),
    ("level", &["level", "cap"]),
    ("parent", &["parent", "parent code", "ma cap tren", "cap tren", "don vi cap tren"]),
    ("cluster", &["cluster", "cum", "cum thi dua"]),
];

fn valid_code(code: &str) -> bool {
    (1..=40).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl UnitTree {
    /// Reads a CSV file (UTF-8, comma-separated, a header row naming the columns code, name,
    /// kind, level, parent, cluster — in English or Vietnamese, any order). Every problem is
    /// reported with its row; the tree is returned only if there are none.
    pub fn from_csv(text: &str) -> Result<UnitTree, Vec<RowError>> {
        UnitTree::default().import_csv(text).map(|(tree, _)| tree)
    }

    /// A tree read back from storage (it was valid when saved).
    pub fn from_units(units: Vec<Unit>, clusters: Vec<Cluster>) -> UnitTree {
        let mut tree = UnitTree::default();
        for unit in units {
            if let Some(p) = &unit.parent {
                tree.children.entry(p.clone()).or_default().push(unit.code.clone());
            }
            tree.units.insert(unit.code.clone(), unit);
        }
        tree.clusters = clusters.into_iter().map(|c| (c.code.clone(), c)).collect();
        tree
    }

    /// Only the units `keep` passes (what a user reads), for a report: a unit whose parent is
    /// dropped becomes a root, so nothing of a dropped unit — not even a row of zeros — shows.
    /// The device and the server build a report's tree this way, so they list the same units.
    pub fn only(&self, keep: impl Fn(&str) -> bool) -> UnitTree {
        let units: Vec<Unit> = self
            .units()
            .filter(|u| keep(&u.code))
            .map(|u| Unit { parent: u.parent.clone().filter(|p| keep(p)), ..u.clone() })
            .collect();
        UnitTree::from_units(units, self.clusters().cloned().collect())
    }

    /// This tree with a CSV file's rows added or updated (by code; units not in the file stay, as
    /// models refer to them). The result must be a valid tree as a whole: a row may name as parent
    /// a unit that is already here. Returns the new tree and what changed.
    pub fn import_csv(&self, text: &str) -> Result<(UnitTree, ImportSummary), Vec<RowError>> {
        let Parsed { rows, mut errors, codes } = parse_rows(text)?;
        let mut summary = ImportSummary::default();
        // Existing units take row 0: they are looked up, never reported.
        let mut merged: BTreeMap<String, (usize, Unit)> =
            self.units.values().map(|u| (u.code.clone(), (0, u.clone()))).collect();
        for (row, unit) in rows {
            match merged.get(&unit.code) {
                None => summary.added += 1,
                Some((_, old)) if *old != unit => summary.updated += 1,
                Some(_) => summary.unchanged += 1,
            }
            merged.insert(unit.code.clone(), (row, unit));
        }
        for (row, unit) in merged.values().filter(|(row, _)| *row > 0) {
            let Some(parent) = &unit.parent else { continue };
            match merged.get(parent) {
                None if codes.contains(parent) => {} // the parent's own row is reported already
                None => errors.push(RowError { row: *row, message: format!("đơn vị cấp trên “{parent}” không có trong tệp hay trong cây hiện có.") }),
                Some((_, p)) if unit.level.rank() > p.level.rank() => errors.push(RowError {
                    row: *row,
                    message: format!("“{}” ({}) không thể trực thuộc “{}” ({}).", unit.code, unit.level.label(), p.code, p.level.label()),
                }),
                Some(_) => {}
            }
        }
        // Cycles: follow parents; a chain longer than the number of units loops further up.
        for (row, unit) in merged.values().filter(|(row, _)| *row > 0) {
            let mut chain = vec![unit.code.as_str()];
            let mut at = unit.parent.as_deref();
            while let Some(code) = at {
                if code == unit.code {
                    chain.push(code);
                    errors.push(RowError { row: *row, message: format!("vòng lặp cấp trên: {}.", chain.join(" → ")) });
                    break;
                }
                if chain.len() > merged.len() {
                    break;
                }
                chain.push(code);
                at = merged.get(code).and_then(|(_, u)| u.parent.as_deref());
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.row);
            return Err(errors);
        }
        let mut clusters = self.clusters.clone();
        for (_, unit) in merged.values() {
            if let Some(c) = &unit.cluster {
                clusters.entry(c.clone()).or_insert_with(|| Cluster { code: c.clone(), name: c.clone(), head: None, deputy: None });
            }
        }
        let tree = UnitTree::from_units(merged.into_values().map(|(_, u)| u).collect(), clusters.into_values().collect());
        Ok((tree, summary))
    }

    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.units.values()
    }

    pub fn get(&self, code: &str) -> Option<&Unit> {
        self.units.get(code)
    }

    pub fn len(&self) -> usize {
        self.units.len()
    }

    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    pub fn roots(&self) -> impl Iterator<Item = &Unit> {
        self.units.values().filter(|u| u.parent.is_none())
    }

    pub fn children(&self, code: &str) -> impl Iterator<Item = &Unit> {
        self.children.get(code).into_iter().flatten().filter_map(|c| self.units.get(c))
    }

    pub fn clusters(&self) -> impl Iterator<Item = &Cluster> {
        self.clusters.values()
    }

    /// Whether `code` is `ancestor` or lies anywhere below it (what a reviewer of `ancestor` sees).
    pub fn is_within(&self, code: &str, ancestor: &str) -> bool {
        self.up_from(code).any(|u| u.code == ancestor)
    }

    /// `code` and the units above it, nearest first. A tree is valid when saved, but rows written
    /// by two imports at once (before they were serialised) may hold a cycle: the walk stops after
    /// as many steps as there are units, so it never loops.
    pub fn up_from<'a>(&'a self, code: &str) -> impl Iterator<Item = &'a Unit> + 'a {
        let first = self.units.get(code);
        std::iter::successors(first, |u| u.parent.as_deref().and_then(|p| self.units.get(p))).take(self.units.len())
    }

    /// `code` and every unit below it, parents before children.
    pub fn subtree(&self, code: &str) -> Vec<&Unit> {
        let mut out: Vec<&Unit> = self.units.get(code).into_iter().collect();
        // Each unit once, even if stored rows hold a cycle (see `up_from`).
        let mut seen: std::collections::HashSet<&str> = out.iter().map(|u| u.code.as_str()).collect();
        let mut i = 0;
        while i < out.len() {
            let next: Vec<&Unit> = self.children(&out[i].code).filter(|u| seen.insert(u.code.as_str())).collect();
            out.extend(next);
            i += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVINCE: &str = "\u{feff}mã,tên,loại,cấp,mã cấp trên,cụm
CB,Tỉnh ủy Cao Bằng,tinh,tỉnh,,
CB-HA,\"Huyện ủy Hà Quảng, (cũ)\",huyện/quận,huyện,CB,
CB-BANBO,Xã Bản Bo,Xã/phường,cơ sở,CB-HA,CUM-1
CB-NAPONG,Thôn Nà Pồng,thon,co_so,CB-BANBO,
CB-TRUONGSON,Xã Trường Sơn,xa,co so,CB,CUM-1
CB-HND,Hội Nông dân tỉnh,doan the,tinh,CB,
";

    #[test]
    fn a_province_with_and_without_the_district_level_imports() {
        let tree = UnitTree::from_csv(PROVINCE).unwrap();
        assert_eq!(tree.len(), 6);
        assert_eq!(tree.roots().map(|u| u.code.as_str()).collect::<Vec<_>>(), ["CB"]);
        assert_eq!(tree.get("CB-HA").unwrap().name, "Huyện ủy Hà Quảng, (cũ)", "quoted commas");
        assert_eq!(tree.get("CB-NAPONG").unwrap().kind, UnitKind::Village);
        // A commune directly under the province (post-2025) and one under a historical district.
        assert!(tree.is_within("CB-TRUONGSON", "CB"));
        assert!(tree.is_within("CB-NAPONG", "CB-HA"));
        assert!(tree.is_within("CB-NAPONG", "CB-NAPONG"));
        assert!(!tree.is_within("CB-TRUONGSON", "CB-HA"), "nothing beside");
        assert!(!tree.is_within("CB", "CB-BANBO"), "nothing above");
        let sub: Vec<&str> = tree.subtree("CB-HA").iter().map(|u| u.code.as_str()).collect();
        assert_eq!(sub, ["CB-HA", "CB-BANBO", "CB-NAPONG"]);
        assert_eq!(tree.clusters().map(|c| c.code.as_str()).collect::<Vec<_>>(), ["CUM-1"]);
    }

    #[test]
    fn every_bad_row_is_reported_with_its_row_and_nothing_is_imported() {
        let csv = "code,name,kind,level,parent,cluster
A,Tỉnh A,tinh,tinh,,
B,Xã B,xa,co_so,A,
B,Xã B lần hai,xa,co_so,A,
,Không mã,xa,co_so,A,
C,,xa,co_so,A,
D,Xã D,hợp tác xã,co_so,A,
E,Xã E,xa,cấp làng,A,
F,Xã F,xa,co_so,ZZZ,
G,Tỉnh G,tinh,tinh,B,
H,Xã H,xa,co_so,I,
I,Xã I,xa,co_so,H,
J K,Xã J,xa,co_so,A,
";
        let errors = UnitTree::from_csv(csv).unwrap_err();
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        let expect = [
            "Dòng 4: mã “B” trùng với dòng 3.",
            "Dòng 5: thiếu mã đơn vị.",
            "Dòng 6: đơn vị “C” chưa có tên.",
            "Dòng 7: loại đơn vị “hợp tác xã” không hợp lệ",
            "Dòng 8: cấp “cấp làng” không hợp lệ",
            "Dòng 9: đơn vị cấp trên “ZZZ” không có trong tệp hay trong cây hiện có.",
            "Dòng 10: “G” (Cấp tỉnh/thành phố) không thể trực thuộc “B” (Cấp cơ sở).",
            "Dòng 11: vòng lặp cấp trên: H → I → H.",
            "Dòng 12: vòng lặp cấp trên: I → H → I.",
            "Dòng 13: mã “J K” không hợp lệ",
        ];
        assert_eq!(text.len(), expect.len(), "{text:#?}");
        for (got, want) in text.iter().zip(expect) {
            assert!(got.starts_with(want), "{got} / {want}");
        }
    }

    #[test]
    fn a_later_file_adds_and_updates_units_under_the_existing_tree() {
        let tree = UnitTree::from_csv(PROVINCE).unwrap();
        // Villages under an existing commune, a renamed commune, and one unchanged row.
        let more = "code,name,kind,level,parent,cluster
CB-KEOYEN,Bản Kéo Yên,thon,co_so,CB-TRUONGSON,
CB-TRUONGSON,Xã Trường Sơn (mới),xa,co_so,CB,CUM-1
CB-HND,Hội Nông dân tỉnh,doan the,tinh,CB,
";
        let (next, summary) = tree.import_csv(more).unwrap();
        assert_eq!(summary, ImportSummary { added: 1, updated: 1, unchanged: 1 });
        assert_eq!(next.len(), 7);
        assert!(next.is_within("CB-KEOYEN", "CB"));
        assert_eq!(next.get("CB-TRUONGSON").unwrap().name, "Xã Trường Sơn (mới)");
        // Moving an existing unit under its own descendant is a loop, reported on the file's row.
        let errors = next.import_csv("code,name,kind,level,parent\nCB-HA,Huyện ủy Hà Quảng,huyen,huyen,CB-NAPONG\n").unwrap_err();
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(text, [
            "Dòng 2: “CB-HA” (Cấp huyện) không thể trực thuộc “CB-NAPONG” (Cấp cơ sở).",
            "Dòng 2: vòng lặp cấp trên: CB-HA → CB-NAPONG → CB-BANBO → CB-HA.",
        ]);
    }

    #[test]
    fn a_file_without_the_needed_columns_says_which() {
        let errors = UnitTree::from_csv("ma,ten\nA,Tỉnh A\n").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().starts_with("Dòng 1: thiếu cột kind, level"), "{}", errors[0]);
    }

    #[test]
    fn kinds_and_levels_are_read_as_people_type_them() {
        assert_eq!(UnitKind::parse("Xã/phường"), Some(UnitKind::Commune));
        assert_eq!(UnitKind::parse("XA"), Some(UnitKind::Commune));
        assert_eq!(UnitKind::parse("truong hoc"), Some(UnitKind::School));
        assert_eq!(UnitKind::parse("Mặt trận, đoàn thể"), Some(UnitKind::MassOrganisation));
        assert_eq!(parse_level("Cấp cơ sở"), Some(Level::Grassroots));
        assert_eq!(parse_level("tỉnh"), Some(Level::Province));
        assert_eq!(parse_level("trung_uong"), Some(Level::Central));
        assert_eq!(parse_level("xã"), None);
    }

    #[test]
    fn walks_of_a_tree_stored_with_a_cycle_end() {
        // What two racing imports could leave in the database: A under B and B under A.
        let unit = |code: &str, parent: &str| Unit {
            code: code.into(),
            name: code.into(),
            kind: UnitKind::Commune,
            level: crate::domain::Level::Grassroots,
            parent: Some(parent.into()),
            cluster: None,
        };
        let tree = UnitTree::from_units(vec![unit("A", "B"), unit("B", "A")], Vec::new());
        assert!(!tree.is_within("A", "C"));
        assert!(tree.is_within("A", "B"));
        assert_eq!(tree.up_from("A").count(), 2);
        assert_eq!(tree.subtree("A").len(), 2);
    }
}
