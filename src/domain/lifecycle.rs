//! The lifecycle of a model: who may move it from which state to which, and what state a set of
//! recorded transitions leads to. No IO.
//!
//! A model's state is never stored as such: the document keeps an append-only list of
//! [`Transition`]s (who, when, what, why), and the state is what [`replay`] makes of them. So two
//! people acting offline at once can never leave a state the rules forbid: their transitions are
//! both kept and replayed in time order, and one that is not allowed from the state reached by
//! then is kept in the history, marked as not applied. Example: a reviewer recognises a model
//! while its cadre, offline, stops it a little later; replayed, the recognition applies and the
//! stop (not allowed once recognised) does not.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use super::model::{Level, Status};

/// What a person does to a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    /// Bắt đầu thực hiện: registered → in progress.
    Start,
    /// Đề nghị công nhận: in progress (or returned, once corrected) → proposed.
    Propose,
    /// Công nhận: proposed → recognised.
    Recognise,
    /// Không công nhận: proposed → not recognised (with a reason).
    Reject,
    /// Trả lại: proposed → returned for correction (with a mandatory reason).
    Return,
    /// Công nhận điển hình: recognised → exemplary.
    MarkExemplary,
    /// Khen thưởng: recognised or exemplary → commended.
    Commend,
    /// Dừng: any active state → stopped (with a reason).
    Stop,
}

/// Who may take an action: the model's own cadres, the reviewers above it, or either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Cadre,
    Reviewer,
    Either,
}

/// What the acting person is, for the model at hand (from their grants and the model's unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Roles {
    /// Writes the model's unit (cán bộ of that unit).
    pub cadre: bool,
    /// Reviews the model's unit (bình xét of it or of a unit above it).
    pub reviewer: bool,
}

impl Action {
    pub const ALL: [Action; 8] = [
        Action::Start,
        Action::Propose,
        Action::Recognise,
        Action::Reject,
        Action::Return,
        Action::MarkExemplary,
        Action::Commend,
        Action::Stop,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Action::Start => "bat_dau",
            Action::Propose => "de_nghi",
            Action::Recognise => "cong_nhan",
            Action::Reject => "khong_cong_nhan",
            Action::Return => "tra_lai",
            Action::MarkExemplary => "dien_hinh",
            Action::Commend => "khen_thuong",
            Action::Stop => "dung",
        }
    }

    pub fn from_code(code: &str) -> Option<Action> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    /// The button's words.
    pub fn label(self) -> &'static str {
        match self {
            Action::Start => "Bắt đầu thực hiện",
            Action::Propose => "Đề nghị công nhận",
            Action::Recognise => "Công nhận",
            Action::Reject => "Không công nhận",
            Action::Return => "Trả lại để sửa",
            Action::MarkExemplary => "Công nhận điển hình",
            Action::Commend => "Khen thưởng",
            Action::Stop => "Dừng mô hình",
        }
    }

    pub fn actor(self) -> Actor {
        match self {
            Action::Start | Action::Propose => Actor::Cadre,
            Action::Recognise | Action::Reject | Action::Return | Action::MarkExemplary | Action::Commend => Actor::Reviewer,
            Action::Stop => Actor::Either,
        }
    }

    pub fn needs_reason(self) -> bool {
        matches!(self, Action::Reject | Action::Return | Action::Stop)
    }

    /// Marking exemplary says at which level (cơ sở, huyện, tỉnh, Trung ương).
    pub fn needs_level(self) -> bool {
        self == Action::MarkExemplary
    }

    /// The state this action leads to, if it is allowed from `from`.
    pub fn apply(self, from: Status) -> Option<Status> {
        use Status::*;
        match (self, from) {
            (Action::Start, Registered) => Some(InProgress),
            (Action::Propose, InProgress | Returned) => Some(Proposed),
            (Action::Recognise, Proposed) => Some(Recognised),
            (Action::Reject, Proposed) => Some(NotRecognised),
            (Action::Return, Proposed) => Some(Returned),
            (Action::MarkExemplary, Recognised) => Some(Exemplary),
            (Action::Commend, Recognised | Exemplary) => Some(Commended),
            (Action::Stop, s) if s.is_active() => Some(Stopped),
            _ => None,
        }
    }

    pub fn allowed_for(self, roles: Roles) -> bool {
        match self.actor() {
            Actor::Cadre => roles.cadre,
            Actor::Reviewer => roles.reviewer,
            Actor::Either => roles.cadre || roles.reviewer,
        }
    }
}

/// One recorded step, stored in the model's document (list `transitions`).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Transition {
    /// Unique (made by the acting device), so two identical clicks stay two records.
    pub id: String,
    /// [`Action::code`]; an unknown code (from a newer version) is kept and never applied.
    pub action: String,
    /// Username of who acted.
    pub by: String,
    /// Their name as shown then.
    pub by_name: String,
    /// Milliseconds since the Unix epoch, by the acting device's clock.
    pub at: i64,
    pub reason: String,
    /// [`Level::code`] at which a model is marked exemplary (empty for other steps, and in steps
    /// recorded before levels were).
    #[autosurgeon(missing = "String::new")]
    #[serde(default)]
    pub level: String,
}

/// A transition as replayed: whether it applied, and the state after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step<'a> {
    pub transition: &'a Transition,
    pub action: Option<Action>,
    /// `None`: not allowed from the state reached by then (or unknown), so not applied.
    pub to: Option<Status>,
}

/// Replays transitions in time order (ties broken by id, the same on every device) from
/// `Registered`; returns the final state and each step.
pub fn replay(transitions: &[Transition]) -> (Status, Vec<Step<'_>>) {
    let mut ordered: Vec<&Transition> = transitions.iter().collect();
    ordered.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    let mut state = Status::Registered;
    let mut steps = Vec::with_capacity(ordered.len());
    for t in ordered {
        let action = Action::from_code(&t.action);
        let to = action.and_then(|a| a.apply(state));
        if let Some(next) = to {
            state = next;
        }
        steps.push(Step { transition: t, action, to });
    }
    (state, steps)
}

/// The actions `roles` may take on a model in `status`, in button order.
pub fn available(status: Status, roles: Roles) -> Vec<Action> {
    Action::ALL.into_iter().filter(|a| a.allowed_for(roles) && a.apply(status).is_some()).collect()
}

/// Checks one action before it is recorded; the error is a sentence for the person acting.
pub fn check(action: Action, status: Status, roles: Roles, reason: &str, level: &str) -> Result<Status, String> {
    if !action.allowed_for(roles) {
        return Err(match action.actor() {
            Actor::Reviewer => format!("Chỉ người bình xét của cấp trên mới được “{}”.", action.label()),
            _ => format!("Chỉ cán bộ của đơn vị mới được “{}”.", action.label()),
        });
    }
    let Some(next) = action.apply(status) else {
        return Err(format!("Không thể “{}” khi mô hình đang ở trạng thái “{}”.", action.label(), status.label()));
    };
    if action.needs_reason() && reason.trim().is_empty() {
        return Err(format!("Hãy ghi lý do để “{}”.", action.label()));
    }
    if reason.chars().count() > 2000 {
        return Err("Lý do dài quá 2.000 ký tự.".into());
    }
    if action.needs_level() && Level::from_code(level).is_none() {
        return Err(format!("Hãy chọn cấp để “{}”.", action.label()));
    }
    Ok(next)
}

/// Top-level keys of a model document that a reviewer (who is not also a cadre of the unit) may
/// change: the lifecycle log and the bookkeeping written with it. The content is the unit's.
pub const REVIEWER_KEYS: &[&str] = &["transitions", "commendations", "evaluations", "status", "updated_at", "updated_by"];

/// Checks what a change did to the lifecycle log: nothing recorded may be altered or removed, and
/// each new step must be by `username` (the signed-in user) and allowed for their `roles`. Whether
/// a step applies from the state it finds is not checked here: offline steps may race, and
/// [`replay`] decides.
/// What the server knows of a change to the log beyond the two lists: its own clock, and for
/// each step (by id) the steps its writer had already seen when writing it — the steps written
/// by changes in the causal past of the change that wrote it (`doc::steps_seen`, from
/// automerge's change graph, whatever the devices' clocks say).
#[derive(Debug, Clone, Default)]
pub struct StepContext {
    pub now_ms: i64,
    pub seen: std::collections::HashMap<String, Vec<String>>,
}

/// The time a device gives a step it records now: its clock, but never before a step it already
/// holds (a device whose clock is behind still records after what it has seen, which is the
/// order `replay` must find and the server requires).
pub fn step_time(transitions: &[Transition], now_ms: i64) -> i64 {
    transitions.iter().map(|t| t.at.saturating_add(1)).fold(now_ms, i64::max)
}

/// The server's rule for what a change may do to a model's lifecycle log: the steps stored stay
/// exactly as they were (an automerge merge may interleave concurrent new ones among them), every
/// step has its own id, and each new step is the signed-in user's own, allowed for their role,
/// with a reason and a level where required, dated after every step its writer had seen and not
/// later than the server's clock allows.
///
/// Together with [`step_time`] this makes `replay`'s time order respect causality for every log
/// the server accepts: a step written after another was seen always sorts after it, and clocks
/// decide only between steps written without knowledge of each other (two people offline).
pub fn check_log(before: &[Transition], after: &[Transition], username: &str, roles: Roles, context: &StepContext) -> Result<(), String> {
    let new = super::append_only::appended(before, after)
        .map_err(|e| e.message("bước", "Không được sửa hay xóa các bước đã ghi trong lịch sử của mô hình."))?;
    for new in new {
        let Some(action) = Action::from_code(&new.action) else {
            return Err(format!("Bước “{}” không có trong quy trình; hãy cập nhật ứng dụng.", new.action.chars().take(40).collect::<String>()));
        };
        if new.by != username {
            return Err("Mỗi bước chỉ được ghi dưới tên chính người đang đăng nhập.".into());
        }
        if !action.allowed_for(roles) {
            return Err(format!("Bạn không có quyền “{}” mô hình này.", action.label()));
        }
        if action.needs_reason() && new.reason.trim().is_empty() {
            return Err(format!("Bước “{}” cần ghi lý do.", action.label()));
        }
        if action.needs_level() && Level::from_code(&new.level).is_none() {
            return Err(format!("Bước “{}” cần ghi cấp.", action.label()));
        }
        if new.at > context.now_ms.saturating_add(super::append_only::MAX_CLOCK_AHEAD_MS) {
            return Err(format!(
                "Bước “{}” ghi thời điểm muộn hơn giờ máy chủ quá một giờ; hãy chỉnh lại ngày giờ của thiết bị rồi ghi lại bước này.",
                action.label()
            ));
        }
        let seen = context.seen.get(&new.id).map(Vec::as_slice).unwrap_or_default();
        if let Some(earlier) = after.iter().find(|t| seen.contains(&t.id) && t.at >= new.at) {
            let label = Action::from_code(&earlier.action).map_or("một bước khác", |a| a.label());
            return Err(format!(
                "Bước “{}” ghi thời điểm trước bước “{label}” mà thiết bị đã biết khi ghi; không được ghi lùi ngày. Hãy kiểm tra ngày giờ của thiết bị.",
                action.label()
            ));
        }
    }
    Ok(())
}

impl super::append_only::Entry for Transition {
    fn entry_id(&self) -> &str {
        &self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    fn t(id: &str, action: Action, at: i64) -> Transition {
        Transition { id: id.into(), action: action.code().into(), by: "u".into(), by_name: "U".into(), at, reason: "lý do".into(), level: "tinh".into() }
    }

    const CADRE: Roles = Roles { cadre: true, reviewer: false };

    fn ctx() -> StepContext {
        StepContext { now_ms: 1_000, seen: Default::default() }
    }
    const REVIEWER: Roles = Roles { cadre: false, reviewer: true };

    #[test]
    fn every_transition_goes_from_where_the_rules_say_to_where_they_say() {
        let table = [
            (Action::Start, Registered, Some(InProgress)),
            (Action::Start, InProgress, None),
            (Action::Propose, InProgress, Some(Proposed)),
            (Action::Propose, Returned, Some(Proposed)),
            (Action::Propose, Registered, None),
            (Action::Recognise, Proposed, Some(Recognised)),
            (Action::Recognise, InProgress, None),
            (Action::Reject, Proposed, Some(NotRecognised)),
            (Action::Return, Proposed, Some(Returned)),
            (Action::Return, Recognised, None),
            (Action::MarkExemplary, Recognised, Some(Exemplary)),
            (Action::MarkExemplary, Proposed, None),
            (Action::Commend, Recognised, Some(Commended)),
            (Action::Commend, Exemplary, Some(Commended)),
            (Action::Commend, NotRecognised, None),
            (Action::Stop, Registered, Some(Stopped)),
            (Action::Stop, InProgress, Some(Stopped)),
            (Action::Stop, Proposed, Some(Stopped)),
            (Action::Stop, Returned, Some(Stopped)),
            (Action::Stop, Recognised, None),
            (Action::Stop, Stopped, None),
        ];
        for (action, from, to) in table {
            assert_eq!(action.apply(from), to, "{action:?} from {from:?}");
        }
        // Every state but the end states is reachable, and the end states lead nowhere.
        for end in [NotRecognised, Commended, Stopped] {
            assert!(Action::ALL.iter().all(|a| a.apply(end).is_none()), "{end:?}");
        }
    }

    #[test]
    fn who_may_do_what() {
        assert_eq!(available(Registered, CADRE), [Action::Start, Action::Stop]);
        assert_eq!(available(Registered, REVIEWER), [Action::Stop]);
        assert_eq!(available(Proposed, CADRE), [Action::Stop]);
        assert_eq!(available(Proposed, REVIEWER), [Action::Recognise, Action::Reject, Action::Return, Action::Stop]);
        assert_eq!(available(Recognised, REVIEWER), [Action::MarkExemplary, Action::Commend]);
        assert_eq!(available(Recognised, CADRE), []);
        assert!(available(Commended, Roles { cadre: true, reviewer: true }).is_empty());
        assert!(check(Action::Recognise, Proposed, CADRE, "", "").unwrap_err().contains("bình xét"));
        assert!(check(Action::Propose, Proposed, REVIEWER, "", "").unwrap_err().contains("cán bộ"));
        assert!(check(Action::Propose, Registered, CADRE, "", "").unwrap_err().contains("Đăng ký"));
        assert!(check(Action::Return, Proposed, REVIEWER, "  ", "").unwrap_err().contains("lý do"));
        assert_eq!(check(Action::Return, Proposed, REVIEWER, "Thiếu số liệu", ""), Ok(Returned));
        assert_eq!(check(Action::Recognise, Proposed, REVIEWER, "", ""), Ok(Recognised));
        assert!(check(Action::MarkExemplary, Recognised, REVIEWER, "", "").unwrap_err().contains("cấp"));
        assert_eq!(check(Action::MarkExemplary, Recognised, REVIEWER, "", "tinh"), Ok(Exemplary));
    }

    #[test]
    fn the_log_only_grows_with_steps_of_the_signed_in_user_and_their_role() {
        let before = vec![t("1", Action::Start, 10)];
        let mut after = before.clone();
        after.push(Transition { by: "canbo".into(), ..t("2", Action::Propose, 20) });
        assert_eq!(check_log(&before, &after, "canbo", CADRE, &ctx()), Ok(()));
        assert!(check_log(&before, &after, "khac", CADRE, &ctx()).unwrap_err().contains("chính người"));
        assert!(check_log(&before, &after, "canbo", REVIEWER, &ctx()).unwrap_err().contains("không có quyền"));
        let mut rewritten = after.clone();
        rewritten[0].reason = "sửa lại".into();
        assert!(check_log(&before, &rewritten, "canbo", CADRE, &ctx()).unwrap_err().contains("sửa hay xóa"));
        assert!(check_log(&before, &[], "canbo", CADRE, &ctx()).is_err(), "removing a step");
        let mut no_reason = after.clone();
        no_reason[1] = Transition { by: "bx".into(), reason: " ".into(), ..t("3", Action::Return, 30) };
        assert!(check_log(&before, &no_reason, "bx", REVIEWER, &ctx()).unwrap_err().contains("lý do"));
    }

    #[test]
    fn a_step_under_an_id_already_in_the_log_is_a_forgery() {
        // The attack: the cadre's own "bắt đầu" id reused for a recognition signed as a reviewer
        // (and, to pass the name rule, as themselves): both refused before any other rule.
        let before = vec![Transition { by: "canbo".into(), ..t("start", Action::Start, 10) }];
        for by in ["bx", "canbo"] {
            let mut after = before.clone();
            after.push(Transition { by: by.into(), ..t("start", Action::Recognise, 20) });
            let err = check_log(&before, &after, "canbo", CADRE, &ctx()).unwrap_err();
            assert!(err.contains("cùng mã"), "{err}");
        }
    }

    #[test]
    fn a_step_may_not_be_dated_before_what_its_writer_had_seen_nor_far_ahead_of_the_server() {
        let canbo = |id: &str, a, at| Transition { by: "canbo".into(), ..t(id, a, at) };
        let before = vec![canbo("1", Action::Start, 10), t("2", Action::Propose, 20), t("r", Action::Recognise, 50)];
        let stop = |at| {
            let mut after = before.clone();
            after.push(canbo("s", Action::Stop, at));
            after
        };
        // Written by a device that had received the recognition: back-dated between two steps,
        // or to 1970, it is refused.
        let seen = StepContext { now_ms: 1_000, seen: [("s".to_string(), vec!["1".into(), "2".into(), "r".into()])].into() };
        for at in [30, 0, -5_000, 50] {
            let err = check_log(&before, &stop(at), "canbo", CADRE, &seen).unwrap_err();
            assert!(err.contains("ghi lùi ngày"), "{at}: {err}");
        }
        assert_eq!(check_log(&before, &stop(51), "canbo", CADRE, &seen), Ok(()));
        // Two people offline at once: the cadre stopped before seeing the recognition, so its
        // own clock places it, and replay decides which applies.
        let offline = StepContext { now_ms: 1_000, seen: [("s".to_string(), vec!["1".into(), "2".into()])].into() };
        assert_eq!(check_log(&before, &stop(30), "canbo", CADRE, &offline), Ok(()));
        assert_eq!(replay(&stop(30)).0, Stopped);
        // Dated far after the server's clock, a step would sort after everything written later.
        let ahead = 1_000 + crate::domain::append_only::MAX_CLOCK_AHEAD_MS + 1;
        assert!(check_log(&before, &stop(ahead), "canbo", CADRE, &seen).unwrap_err().contains("giờ máy chủ"));
        assert_eq!(check_log(&before, &stop(ahead - 1), "canbo", CADRE, &seen), Ok(()));
    }

    #[test]
    fn a_device_whose_clock_is_behind_still_records_after_what_it_has_seen() {
        let log = [t("1", Action::Start, 10), t("2", Action::Propose, 5_000)];
        assert_eq!(step_time(&log, 100), 5_001);
        assert_eq!(step_time(&log, 9_000), 9_000);
        assert_eq!(step_time(&[], 7), 7);
    }

    #[test]
    fn a_whole_life_replays_to_commended() {
        let log = [
            t("1", Action::Start, 10),
            t("2", Action::Propose, 20),
            t("3", Action::Return, 30),
            t("4", Action::Propose, 40),
            t("5", Action::Recognise, 50),
            t("6", Action::MarkExemplary, 60),
            t("7", Action::Commend, 70),
        ];
        let (state, steps) = replay(&log);
        assert_eq!(state, Commended);
        assert!(steps.iter().all(|s| s.to.is_some()));
        // Order of storage does not matter, only time.
        let mut shuffled = log.to_vec();
        shuffled.reverse();
        assert_eq!(replay(&shuffled).0, Commended);
    }

    #[test]
    fn racing_offline_transitions_never_reach_a_forbidden_state() {
        // The reviewer recognises at 50; the cadre, offline, stops at 55 (a stop is not allowed
        // once recognised) and proposes again at 45 (already proposed: not applied either).
        let log = [t("1", Action::Start, 10), t("2", Action::Propose, 20), t("r", Action::Recognise, 50), t("s", Action::Stop, 55), t("p", Action::Propose, 45)];
        let (state, steps) = replay(&log);
        assert_eq!(state, Recognised);
        let skipped: Vec<&str> = steps.iter().filter(|s| s.to.is_none()).map(|s| s.transition.id.as_str()).collect();
        assert_eq!(skipped, ["p", "s"]);
        // Two reviewers decide differently at the same millisecond: the id decides, everywhere.
        let tie = [t("1", Action::Start, 1), t("2", Action::Propose, 2), t("b", Action::Reject, 9), t("a", Action::Recognise, 9)];
        assert_eq!(replay(&tie).0, Recognised);
        // An action from a newer version is kept and ignored.
        let mut newer = t("x", Action::Start, 1);
        newer.action = "hanh_dong_moi".into();
        let (state, steps) = replay(std::slice::from_ref(&newer));
        assert_eq!((state, steps[0].action, steps[0].to), (Registered, None, None));
    }
}
