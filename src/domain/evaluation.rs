//! Evaluation (bình xét, đánh giá) of a proposed model against a criteria set. No IO.
//!
//! The criteria are configured per owner kind (defaults from practice: DOMAIN.md). An evaluation
//! copies the criteria it started with (label and maximum), so it reads the same after the set
//! is changed. A reviewer scores each criterion with a comment, in any order and over several
//! sittings; every score given is kept in the evaluation's own log; once every criterion has a
//! score it is submitted with a result — recognised, not recognised (reason), returned for
//! correction (reason) — recorded together with the lifecycle step, and is read-only afterwards.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use super::lifecycle::{Action, Roles};
use super::model::{Model, OwnerKind, Status};
use crate::i18n::vi;

/// One criterion of a set: what is scored and out of how much.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    pub id: String,
    pub label: String,
    pub max: u32,
}

/// The criteria used for models of one owner kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriteriaSet {
    /// [`OwnerKind::code`].
    pub owner_kind: String,
    pub criteria: Vec<Criterion>,
}

/// Highest maximum a criterion may have.
pub const MAX_POINTS: u32 = 100;
const MAX_CRITERIA: usize = 30;
const MAX_LABEL_CHARS: usize = 300;

fn criterion(n: usize, label: &str, max: u32) -> Criterion {
    Criterion { id: format!("tc{n}"), label: label.to_string(), max }
}

/// The default criteria for an owner kind: for collectives the eight seen in practice, for
/// individuals and households the four for a person (DOMAIN.md, "Criteria seen in practice").
/// Data copied into criteria sets and evaluation sheets: Vietnamese in every language.
pub fn default_criteria(kind: OwnerKind) -> Vec<Criterion> {
    let labels: &[&str] = match kind {
        OwnerKind::Collective => &[
            vi("Tên mô hình cụ thể, địa bàn rõ ràng, thuộc một lĩnh vực"),
            vi("Do cấp ủy, chính quyền lãnh đạo, chỉ đạo và đăng ký"),
            vi("Huy động được nhiều lực lượng cùng tham gia"),
            vi("Thiết thực, hiệu quả, có sức lan tỏa"),
            vi("Được nhân dân đồng tình, ủng hộ"),
            vi("Giải quyết được vấn đề bức xúc, cấp bách ở cơ sở"),
            vi("Bền vững, có khả năng duy trì"),
            vi("Có khả năng nhân rộng"),
        ],
        OwnerKind::Individual | OwnerKind::Household => &[
            vi("Gương mẫu, cùng gia đình thực hiện tốt chủ trương, chính sách"),
            vi("Có sáng kiến, cách làm hay được áp dụng"),
            vi("Góp phần giải quyết vụ việc phức tạp, tồn đọng kéo dài"),
            vi("Tận tụy, hết lòng phục vụ nhân dân"),
        ],
    };
    labels.iter().enumerate().map(|(i, l)| criterion(i + 1, l, 10)).collect()
}

/// The criteria for `kind` in `sets`, or the defaults when none are configured for it.
pub fn criteria_for(sets: &[CriteriaSet], kind: OwnerKind) -> Vec<Criterion> {
    sets.iter()
        .find(|s| s.owner_kind == kind.code() && !s.criteria.is_empty())
        .map_or_else(|| default_criteria(kind), |s| s.criteria.clone())
}

/// The criteria as an administrator edits them: one per line, "label | maximum" (maximum 10
/// when left out).
pub fn criteria_text(criteria: &[Criterion]) -> String {
    criteria.iter().map(|c| format!("{} | {}", c.label, c.max)).collect::<Vec<_>>().join("\n")
}

/// Reads what an administrator typed (see [`criteria_text`]); every bad line is reported, in
/// Vietnamese, with its number. Ids are kept for labels that already existed, so evaluations in
/// progress still match.
pub fn parse_criteria(text: &str, previous: &[Criterion]) -> Result<Vec<Criterion>, Vec<String>> {
    let mut out: Vec<Criterion> = Vec::new();
    let mut problems = Vec::new();
    let mut next_id = previous.iter().filter_map(|c| c.id.strip_prefix("tc")?.parse::<usize>().ok()).max().unwrap_or(0);
    for (n, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if line.is_empty() {
            continue;
        }
        let (label, max) = match line.rsplit_once('|') {
            Some((label, max)) => match max.trim().parse::<u32>() {
                Ok(m) if (1..=MAX_POINTS).contains(&m) => (label.trim(), m),
                _ => {
                    problems.push(format!("Dòng {n}: điểm tối đa phải là số nguyên từ 1 đến {MAX_POINTS}."));
                    continue;
                }
            },
            None => (line, 10),
        };
        if label.is_empty() {
            problems.push(format!("Dòng {n}: thiếu tên tiêu chí."));
        } else if label.chars().count() > MAX_LABEL_CHARS {
            problems.push(format!("Dòng {n}: tên tiêu chí dài quá {MAX_LABEL_CHARS} ký tự."));
        } else if out.iter().any(|c| c.label == label) {
            problems.push(format!("Dòng {n}: tiêu chí “{label}” bị lặp."));
        } else {
            let id = previous.iter().find(|c| c.label == label).map_or_else(
                || {
                    next_id += 1;
                    format!("tc{next_id}")
                },
                |c| c.id.clone(),
            );
            out.push(Criterion { id, label: label.to_string(), max });
        }
    }
    if out.is_empty() && problems.is_empty() {
        problems.push("Cần ít nhất một tiêu chí.".into());
    }
    if out.len() > MAX_CRITERIA {
        problems.push(format!("Tối đa {MAX_CRITERIA} tiêu chí."));
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

/// A criterion as scored in one evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Score {
    #[key]
    pub criterion: String,
    pub label: String,
    pub max: u32,
    /// `None` until scored.
    pub score: Option<u32>,
    pub comment: String,
}

/// One score given (kept even when changed later).
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct ScoreChange {
    pub criterion: String,
    pub label: String,
    pub from: Option<u32>,
    pub to: u32,
    pub comment: String,
    pub at: i64,
}

/// A reviewer's evaluation of a model, stored in its document (list `evaluations`).
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Evaluation {
    #[key]
    pub id: String,
    pub by: String,
    pub by_name: String,
    pub started_at: i64,
    pub scores: Vec<Score>,
    pub changes: Vec<ScoreChange>,
    /// 0 while a draft.
    pub submitted_at: i64,
    /// [`Action::code`] of the result (recognise, not recognise, return); empty while a draft.
    pub result: String,
    pub reason: String,
}

impl Evaluation {
    pub fn new(id: String, criteria: &[Criterion], by: &str, by_name: &str, now_ms: i64) -> Evaluation {
        Evaluation {
            id,
            by: by.to_string(),
            by_name: by_name.to_string(),
            started_at: now_ms,
            scores: criteria
                .iter()
                .map(|c| Score { criterion: c.id.clone(), label: c.label.clone(), max: c.max, score: None, comment: String::new() })
                .collect(),
            changes: Vec::new(),
            submitted_at: 0,
            result: String::new(),
            reason: String::new(),
        }
    }

    pub fn is_submitted(&self) -> bool {
        self.submitted_at != 0
    }

    /// Points given and points possible.
    pub fn total(&self) -> (u32, u32) {
        self.scores.iter().fold((0, 0), |(got, max), s| (got + s.score.unwrap_or(0), max + s.max))
    }

    pub fn unscored(&self) -> impl Iterator<Item = &Score> {
        self.scores.iter().filter(|s| s.score.is_none())
    }

    pub fn result_action(&self) -> Option<Action> {
        Action::from_code(&self.result)
    }

    /// Scores one criterion from what the reviewer typed; the change is logged. `Ok(false)`
    /// when nothing changed.
    pub fn score(&mut self, criterion: &str, typed: &str, comment: &str, now_ms: i64) -> Result<bool, String> {
        if self.is_submitted() {
            return Err("Phiếu bình xét đã gửi, không sửa được nữa.".into());
        }
        let Some(s) = self.scores.iter_mut().find(|s| s.criterion == criterion) else {
            return Err("Tiêu chí này không có trong phiếu.".into());
        };
        let value = match typed.trim().parse::<u32>() {
            Ok(v) if v <= s.max => v,
            _ => return Err(format!("Điểm của “{}” phải là số nguyên từ 0 đến {}.", s.label, s.max)),
        };
        let comment = comment.trim();
        if s.score == Some(value) && s.comment == comment {
            return Ok(false);
        }
        self.changes.push(ScoreChange {
            criterion: s.criterion.clone(),
            label: s.label.clone(),
            from: s.score,
            to: value,
            comment: comment.to_string(),
            at: now_ms,
        });
        s.score = Some(value);
        s.comment = comment.to_string();
        Ok(true)
    }

    /// Submits with a result; every criterion must be scored first.
    pub fn submit(&mut self, result: Action, reason: &str, now_ms: i64) -> Result<(), String> {
        self.check_result(result, reason)?;
        self.submitted_at = now_ms;
        self.result = result.code().to_string();
        self.reason = reason.trim().to_string();
        Ok(())
    }

    /// Whether this sheet may be submitted with `result` and `reason` (every criterion scored
    /// within its maximum, a reviewer's result, a reason where the step needs one): the rule
    /// `submit` and the server's `check_evaluations` apply; public for the fuzz targets' oracle.
    pub fn check_result(&self, result: Action, reason: &str) -> Result<(), String> {
        if !matches!(result, Action::Recognise | Action::Reject | Action::Return) {
            return Err("Kết quả bình xét chỉ là công nhận, không công nhận hoặc trả lại.".into());
        }
        let missing: Vec<&str> = self.unscored().map(|s| s.label.as_str()).collect();
        if !missing.is_empty() {
            return Err(format!("Còn {} tiêu chí chưa chấm điểm: {}.", missing.len(), missing.join("; ")));
        }
        if let Some(s) = self.scores.iter().find(|s| s.score.is_some_and(|v| v > s.max)) {
            return Err(format!("Điểm của “{}” vượt quá {}.", s.label, s.max));
        }
        if result.needs_reason() && reason.trim().is_empty() {
            // The step as it reads inside the sentence, written out so the catalogue knows it.
            let step = match result {
                Action::Reject => "không công nhận".to_string(),
                Action::Return => "trả lại để sửa".to_string(),
                other => other.label().to_lowercase(),
            };
            return Err(format!("Hãy ghi lý do “{step}”."));
        }
        Ok(())
    }
}

/// A change a reviewer makes to their evaluation of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EvaluationStep {
    /// Opens an evaluation with these criteria (nothing happens if one is already open).
    Start(Vec<Criterion>),
    /// Scores as typed on the sheet: (criterion, score, comment); rows left empty are skipped.
    Score(Vec<(String, String, String)>),
    /// Saves the sheet as typed, then submits it with a result, recorded at once as the
    /// lifecycle step of the same name.
    Submit { scores: Vec<(String, String, String)>, result: Action, reason: String },
}

/// Applies a sheet as typed: every row is checked first, so a bad row changes nothing.
fn score_all(e: &mut Evaluation, scores: &[(String, String, String)], now_ms: i64) -> Result<bool, String> {
    let mut trial = e.clone();
    let mut changed = false;
    for (criterion, typed, comment) in scores.iter().filter(|(_, t, _)| !t.trim().is_empty()) {
        changed |= trial.score(criterion, typed, comment, now_ms)?;
    }
    *e = trial;
    Ok(changed)
}

/// Applies `step` to `model` for the reviewer `by`; `Ok(false)` when nothing changed. Submitting
/// checks the lifecycle rules too (the model must still be proposed), and records the step.
pub fn evaluate(
    model: &mut Model,
    step: EvaluationStep,
    (by, by_name): (&str, &str),
    roles: Roles,
    now_ms: i64,
    new_id: impl Fn() -> String,
) -> Result<bool, String> {
    if !roles.reviewer {
        return Err("Chỉ người bình xét của cấp trên mới chấm điểm mô hình.".into());
    }
    let open = model.evaluations.iter().position(|e| e.by == by && !e.is_submitted());
    match (step, open) {
        (EvaluationStep::Start(_), Some(_)) => Ok(false),
        (EvaluationStep::Start(criteria), None) => {
            if model.status != Status::Proposed {
                return Err(format!("Chỉ bình xét mô hình đang “{}”.", Status::Proposed.label()));
            }
            model.evaluations.push(Evaluation::new(new_id(), &criteria, by, by_name, now_ms));
            Ok(true)
        }
        (_, None) => Err("Chưa có phiếu bình xét nào đang mở; hãy bắt đầu chấm điểm.".into()),
        (EvaluationStep::Score(scores), Some(i)) => score_all(&mut model.evaluations[i], &scores, now_ms),
        (EvaluationStep::Submit { scores, result, reason }, Some(i)) => {
            // The sheet's own problems first (unscored criteria, then the reason), then the rules.
            let mut sheet = model.evaluations[i].clone();
            score_all(&mut sheet, &scores, now_ms)?;
            sheet.submit(result, &reason, now_ms)?;
            let next = super::lifecycle::check(result, model.status, roles, &reason, "")?;
            model.evaluations[i] = sheet;
            model.transitions.push(super::lifecycle::Transition {
                id: new_id(),
                action: result.code().to_string(),
                by: by.to_string(),
                by_name: by_name.to_string(),
                at: super::lifecycle::step_time(&model.transitions, now_ms),
                reason: reason.trim().to_string(),
                level: String::new(),
            });
            model.status = next;
            Ok(true)
        }
    }
}

/// The evaluation `username` is working on (not yet submitted), if any.
pub fn draft_of<'a>(evaluations: &'a [Evaluation], username: &str) -> Option<&'a Evaluation> {
    evaluations.iter().find(|e| e.by == username && !e.is_submitted())
}

/// Checks what a change did to the evaluations (the server's rule): only reviewers above the
/// model write them, each only their own; a submitted one never changes; the score log only
/// grows; a submission has every criterion scored within its maximum and a valid result.
pub fn check_evaluations(before: &[Evaluation], after: &[Evaluation], username: &str, roles: Roles) -> Result<(), String> {
    // Sheets are found by id below: a second sheet under an existing id would be checked as that
    // one (or not at all), so ids must be unique first.
    super::append_only::unique_ids(after).map_err(|e| e.message("phiếu bình xét", ""))?;
    for old in before {
        match after.iter().find(|e| e.id == old.id) {
            None => return Err("Không được xóa phiếu bình xét.".into()),
            Some(new) if new == old => {}
            Some(_) if old.is_submitted() => return Err("Phiếu bình xét đã gửi, không sửa được nữa.".into()),
            Some(_) if old.by != username => return Err("Chỉ người lập phiếu bình xét mới sửa được phiếu đó.".into()),
            Some(new) if !new.changes.starts_with(&old.changes) => {
                return Err("Không được sửa hay xóa lịch sử chấm điểm.".into());
            }
            Some(new) if new.by != old.by || new.started_at != old.started_at => {
                return Err("Không được đổi người lập phiếu bình xét.".into());
            }
            Some(_) => {}
        }
    }
    for new in after.iter().filter(|e| !before.contains(e)) {
        if !roles.reviewer {
            return Err("Chỉ người bình xét của cấp trên mới chấm điểm mô hình.".into());
        }
        if new.by != username {
            return Err("Phiếu bình xét chỉ được ghi dưới tên chính người đang đăng nhập.".into());
        }
        if let Some(s) = new.scores.iter().find(|s| s.score.is_some_and(|v| v > s.max)) {
            return Err(format!("Điểm của “{}” vượt quá {}.", s.label, s.max));
        }
        if new.is_submitted() {
            let Some(result) = new.result_action() else {
                return Err("Phiếu bình xét gửi đi chưa có kết quả hợp lệ.".into());
            };
            new.check_result(result, &new.reason)?;
        }
    }
    Ok(())
}

impl super::append_only::Entry for Evaluation {
    fn entry_id(&self) -> &str {
        &self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REVIEWER: Roles = Roles { cadre: false, reviewer: true };

    fn fresh() -> Evaluation {
        Evaluation::new("e1".into(), &default_criteria(OwnerKind::Individual), "bx", "Người bình xét", 1)
    }

    #[test]
    fn defaults_follow_practice_for_collectives_and_people() {
        assert_eq!(default_criteria(OwnerKind::Collective).len(), 8);
        assert_eq!(default_criteria(OwnerKind::Individual).len(), 4);
        assert!(default_criteria(OwnerKind::Collective).iter().all(|c| c.max == 10));
        let configured = vec![CriteriaSet { owner_kind: "tap_the".into(), criteria: vec![criterion(1, "Hiệu quả", 20)] }];
        assert_eq!(criteria_for(&configured, OwnerKind::Collective)[0].max, 20);
        assert_eq!(criteria_for(&configured, OwnerKind::Individual).len(), 4);
    }

    #[test]
    fn criteria_are_edited_as_lines_and_keep_their_ids() {
        let previous = default_criteria(OwnerKind::Individual);
        let text = format!("{}\nTiêu chí mới | 20\n\nKhông điểm", criteria_text(&previous[..2]));
        let parsed = parse_criteria(&text, &previous).unwrap();
        assert_eq!(parsed.len(), 4);
        assert_eq!(parsed[0].id, previous[0].id);
        assert_eq!((parsed[2].id.as_str(), parsed[2].max), ("tc5", 20));
        assert_eq!((parsed[3].label.as_str(), parsed[3].max), ("Không điểm", 10));
        let bad = parse_criteria("A | 0\n | 5\nB | mười\nC\nC", &[]).unwrap_err();
        assert_eq!(bad.len(), 4, "{bad:?}");
        assert!(bad[0].starts_with("Dòng 1"));
        assert!(bad[3].contains("bị lặp"));
        assert_eq!(parse_criteria("  \n", &[]).unwrap_err(), ["Cần ít nhất một tiêu chí."]);
    }

    #[test]
    fn every_criterion_must_be_scored_before_submitting_and_every_score_is_kept() {
        let mut e = fresh();
        assert!(e.score("tc1", "11", "", 2).unwrap_err().contains("từ 0 đến 10"));
        assert!(e.score("tc1", "tám", "", 2).is_err());
        assert_eq!(e.score("tc1", "8", "Gương mẫu", 2), Ok(true));
        assert_eq!(e.score("tc1", "8", "Gương mẫu", 3), Ok(false));
        assert_eq!(e.score("tc1", "9", "Gương mẫu", 4), Ok(true));
        assert_eq!(e.changes.iter().map(|c| (c.from, c.to)).collect::<Vec<_>>(), [(None, 8), (Some(8), 9)]);
        let err = e.submit(Action::Recognise, "", 5).unwrap_err();
        assert!(err.starts_with("Còn 3 tiêu chí chưa chấm điểm"), "{err}");
        for c in ["tc2", "tc3", "tc4"] {
            e.score(c, "7", "", 6).unwrap();
        }
        assert_eq!(e.total(), (30, 40));
        assert!(e.submit(Action::Return, " ", 7).unwrap_err().contains("lý do"));
        assert!(e.submit(Action::Stop, "x", 7).is_err());
        e.submit(Action::Return, "Bổ sung minh chứng", 8).unwrap();
        assert!(e.score("tc1", "10", "", 9).is_err(), "submitted evaluations are read-only");
    }

    #[test]
    fn an_evaluation_is_started_on_a_proposed_model_and_its_result_is_the_lifecycle_step() {
        let mut m = Model::new("m".into(), "a", 1);
        let ids = std::cell::Cell::new(0);
        let new_id = || {
            ids.set(ids.get() + 1);
            format!("id{}", ids.get())
        };
        let who = ("bx", "Người bình xét");
        let criteria = default_criteria(OwnerKind::Individual);
        let start = || EvaluationStep::Start(criteria.clone());
        assert!(evaluate(&mut m, start(), who, REVIEWER, 2, new_id).unwrap_err().contains("Đề nghị công nhận"));
        m.status = Status::Proposed;
        assert!(evaluate(&mut m, start(), who, Roles { cadre: true, reviewer: false }, 2, new_id).is_err());
        assert_eq!(evaluate(&mut m, start(), who, REVIEWER, 2, new_id), Ok(true));
        assert_eq!(evaluate(&mut m, start(), who, REVIEWER, 3, new_id), Ok(false), "one open evaluation per reviewer");
        let submit = |result, scores| EvaluationStep::Submit { scores, result, reason: "Thiếu ảnh minh chứng".into() };
        let row = |c: &Criterion, v: &str| (c.id.clone(), v.to_string(), String::new());
        let half: Vec<_> = criteria[..2].iter().map(|c| row(c, "7")).collect();
        assert_eq!(evaluate(&mut m, EvaluationStep::Score(half), who, REVIEWER, 5, new_id), Ok(true));
        let err = evaluate(&mut m, submit(Action::Return, vec![]), who, REVIEWER, 4, new_id).unwrap_err();
        assert!(err.contains("Còn 2 tiêu chí chưa chấm"), "{err}");
        // A bad row changes nothing, not even the good rows beside it.
        let bad = vec![row(&criteria[2], "9"), row(&criteria[3], "99")];
        assert!(evaluate(&mut m, EvaluationStep::Score(bad), who, REVIEWER, 5, new_id).is_err());
        assert_eq!(m.evaluations[0].scores[2].score, None);
        let rest: Vec<_> = criteria[2..].iter().map(|c| row(c, "8")).collect();
        assert_eq!(evaluate(&mut m, submit(Action::Return, rest), who, REVIEWER, 6, new_id), Ok(true));
        assert_eq!(m.evaluations[0].total(), (30, 40));
        assert_eq!(m.status, Status::Returned);
        assert_eq!(m.transitions.last().map(|t| (t.action.as_str(), t.reason.as_str())), Some(("tra_lai", "Thiếu ảnh minh chứng")));
        assert!(m.evaluations[0].is_submitted());
        // Proposed again: a new evaluation starts, the returned one stays as it was.
        m.status = Status::Proposed;
        assert_eq!(evaluate(&mut m, start(), who, REVIEWER, 7, new_id), Ok(true));
        assert_eq!(m.evaluations.len(), 2);
    }

    #[test]
    fn the_server_rule_keeps_evaluations_to_their_reviewer_and_submitted_ones_fixed() {
        let cadre = Roles { cadre: true, reviewer: false };
        let draft = fresh();
        assert_eq!(check_evaluations(&[], std::slice::from_ref(&draft), "bx", REVIEWER), Ok(()));
        assert!(check_evaluations(&[], std::slice::from_ref(&draft), "bx", cadre).is_err());
        assert!(check_evaluations(&[], std::slice::from_ref(&draft), "khac", REVIEWER).is_err());
        let mut scored = draft.clone();
        scored.score("tc1", "5", "", 2).unwrap();
        assert_eq!(check_evaluations(std::slice::from_ref(&draft), std::slice::from_ref(&scored), "bx", REVIEWER), Ok(()));
        assert!(check_evaluations(std::slice::from_ref(&draft), std::slice::from_ref(&scored), "khac", REVIEWER).is_err());
        // Rewriting the log, deleting, scoring beyond the maximum, submitting half-scored.
        let mut rewritten = scored.clone();
        rewritten.changes.clear();
        assert!(check_evaluations(std::slice::from_ref(&scored), &[rewritten], "bx", REVIEWER).is_err());
        assert!(check_evaluations(std::slice::from_ref(&scored), &[], "bx", REVIEWER).is_err());
        let mut over = scored.clone();
        over.scores[1].score = Some(50);
        assert!(check_evaluations(std::slice::from_ref(&scored), &[over], "bx", REVIEWER).unwrap_err().contains("vượt quá"));
        let mut half = scored.clone();
        half.submitted_at = 9;
        half.result = "cong_nhan".into();
        assert!(check_evaluations(std::slice::from_ref(&scored), &[half], "bx", REVIEWER).unwrap_err().contains("chưa chấm"));
        let mut done = scored.clone();
        for c in ["tc2", "tc3", "tc4"] {
            done.score(c, "6", "", 3).unwrap();
        }
        done.submit(Action::Recognise, "", 4).unwrap();
        assert_eq!(check_evaluations(std::slice::from_ref(&scored), std::slice::from_ref(&done), "bx", REVIEWER), Ok(()));
        let mut changed = done.clone();
        changed.reason = "sửa sau".into();
        assert!(check_evaluations(std::slice::from_ref(&done), &[changed], "bx", REVIEWER).unwrap_err().contains("đã gửi"));
    }
}
