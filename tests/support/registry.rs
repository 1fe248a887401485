//! A realistic registry at Hà Nội's scale, generated deterministically: 78,494 models (Hà Nội's
//! figure for 2009–2020) over a city, 30 districts and about 580 communes, registered 2009–2020
//! with the movement's shares of fields and owner kinds, and lifecycle logs, commendations and
//! replications dated along the way. About a fifth end up recognised (Hà Nội: 17,114 of 78,494).
//! Used by the report benchmark; the reports, import and agreement tests can take smaller ones.

#![allow(dead_code)]

use danvan::domain::{Action, Commendation, Level, Model, OwnerKind, Replication, Transition, Unit, UnitKind, UnitTree};

pub const HA_NOI_MODELS: usize = 78_494;
pub const DISTRICTS: usize = 30;
pub const COMMUNES_PER_DISTRICT: usize = 19;

/// splitmix64: a fixed sequence from a seed, so every run builds the same registry.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const DAY_MS: i64 = 86_400_000;
/// 2009-01-01 00:00 in Vietnam, in ms since the epoch.
const START_2009_MS: i64 = 1_230_742_800_000;

/// The city, its districts and their communes (codes `HN`, `HN-Q01`, `HN-Q01-X01` …), with the
/// districts in four clusters.
pub fn ha_noi_tree() -> UnitTree {
    let unit = |code: String, name: String, kind, level, parent: Option<String>, cluster: Option<String>| Unit { code, name, kind, level, parent, cluster };
    let mut units = vec![unit("HN".into(), "Thành ủy Hà Nội".into(), UnitKind::ProvinceCommittee, Level::Province, None, None)];
    for d in 1..=DISTRICTS {
        let code = format!("HN-Q{d:02}");
        let cluster = format!("CUM-{}", (d - 1) % 4 + 1);
        units.push(unit(code.clone(), format!("Quận/huyện {d:02}"), UnitKind::DistrictCommittee, Level::District, Some("HN".into()), Some(cluster)));
        for x in 1..=COMMUNES_PER_DISTRICT {
            units.push(unit(format!("{code}-X{x:02}"), format!("Xã/phường {d:02}.{x:02}"), UnitKind::Commune, Level::Grassroots, Some(code.clone()), None));
        }
    }
    let clusters = (1..=4)
        .map(|c| danvan::domain::Cluster { code: format!("CUM-{c}"), name: format!("Cụm thi đua số {c}"), head: None, deputy: None })
        .collect();
    UnitTree::from_units(units, clusters)
}

fn step(id: String, action: Action, at: i64, level: &str) -> Transition {
    Transition { id, action: action.code().into(), by: "can_bo".into(), by_name: "Cán bộ".into(), at, reason: "Theo kết quả bình xét".into(), level: level.into() }
}

/// `count` models of the Hà Nội tree: most belong to communes, some to districts.
pub fn ha_noi_models(count: usize, seed: u64) -> Vec<Model> {
    let mut rng = Rng::new(seed);
    let fields = ["kinh_te", "van_hoa_xa_hoi", "quoc_phong_an_ninh", "xay_dung_he_thong_chinh_tri"];
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let d = rng.below(DISTRICTS as u64) + 1;
        let (unit, level) = if rng.chance(8) {
            (format!("HN-Q{d:02}"), Level::District)
        } else {
            (format!("HN-Q{d:02}-X{:02}", rng.below(COMMUNES_PER_DISTRICT as u64) + 1), Level::Grassroots)
        };
        // More models in later years, as the movement grew.
        let year_index = ((rng.below(144) as f64).sqrt()) as i64; // 0..=11, weighted to later years
        let registered = START_2009_MS + year_index * 365 * DAY_MS + rng.below(330) as i64 * DAY_MS + 9 * 3_600_000;
        let mut m = Model::new(format!("m{i:06}"), "can_bo", registered);
        m.name = format!("Mô hình dân vận khéo số {i}");
        m.unit = unit.clone();
        m.unit_name = unit.clone();
        m.level = level;
        m.year = 2009 + year_index as u32;
        m.field = fields[match rng.below(100) { 0..=44 => 0, 45..=74 => 1, 75..=87 => 2, _ => 3 }].into();
        m.owner_kind = match rng.below(100) { 0..=69 => OwnerKind::Collective, 70..=92 => OwnerKind::Individual, _ => OwnerKind::Household };
        m.owner_name = format!("Chủ thể {i}");
        let mut at = registered;
        let mut next = |rng: &mut Rng, days: u64| {
            at += (rng.below(days) as i64 + 1) * DAY_MS;
            at
        };
        let mut steps = Vec::new();
        if rng.chance(85) {
            steps.push(step(format!("{i}-1"), Action::Start, next(&mut rng, 30), ""));
            if rng.chance(40) {
                steps.push(step(format!("{i}-2"), Action::Propose, next(&mut rng, 300), ""));
                match rng.below(100) {
                    0..=59 => {
                        steps.push(step(format!("{i}-3"), Action::Recognise, next(&mut rng, 60), ""));
                        if rng.chance(12) {
                            let level = if rng.chance(80) { "huyen" } else { "tinh" };
                            steps.push(step(format!("{i}-4"), Action::MarkExemplary, next(&mut rng, 200), level));
                        }
                    }
                    60..=74 => steps.push(step(format!("{i}-3"), Action::Reject, next(&mut rng, 60), "")),
                    _ => steps.push(step(format!("{i}-3"), Action::Return, next(&mut rng, 60), "")),
                }
            } else if rng.chance(10) {
                steps.push(step(format!("{i}-2"), Action::Stop, next(&mut rng, 400), ""));
            }
        }
        let recognised = steps.iter().any(|s| s.action == Action::Recognise.code());
        if recognised && rng.chance(20) {
            let on = next(&mut rng, 120);
            let date = danvan::domain::Date::in_vietnam(on);
            m.commendations.push(Commendation {
                id: format!("{i}-k"),
                form: if rng.chance(75) { "giay_khen" } else { "bang_khen" }.into(),
                issuer: "UBND quận".into(),
                level: "huyen".into(),
                decision_number: format!("{}/QĐ-UBND", rng.below(900) + 100),
                decision_date: date.to_string(),
                recipients: String::new(),
                by: "binh_xet".into(),
                by_name: "Bình xét".into(),
                at: on,
            });
        }
        if recognised && rng.chance(15) {
            for r in 0..=rng.below(3) {
                let d2 = rng.below(DISTRICTS as u64) + 1;
                let place = format!("HN-Q{d2:02}-X{:02}", rng.below(COMMUNES_PER_DISTRICT as u64) + 1);
                m.replications.push(Replication { id: format!("{i}-r{r}"), unit: place.clone(), unit_name: place, by: "can_bo".into(), by_name: "Cán bộ".into(), at: next(&mut rng, 200) });
            }
        }
        m.transitions = steps;
        out.push(m);
    }
    out
}
