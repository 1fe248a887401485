//! The server's rule for a document created by import, applied as well by `plan` to every row
//! before anything is written (so a row the server would refuse is reported as the row's error).
//!
//! An import records history that happened before danvan: steps taken years ago by people who
//! may have no account. They are recorded in the importing user's name (the model's history says
//! so, and from which file and line), and the importer vouches for the whole state: the rule is
//! what that state would have needed. Anyone who may register, review or administer models of the
//! unit may import a model that was only registered, under way, proposed, returned or stopped;
//! a state a reviewer decides (recognised, not recognised, exemplary, commended) needs a reviewer
//! of the unit, and recognising (or marking exemplary, or commending) at a level needs a reviewer
//! grant at that level or above — a commune's reviewer cannot import "recognised at province level".

use crate::domain::append_only::MAX_CLOCK_AHEAD_MS;
use crate::domain::{Access, Action, Actor, Level, Model, replay};

/// Checks a model as it is first written by an import (`imported` set). The error is a sentence
/// for the person importing.
pub fn check_import(model: &Model, username: &str, access: &Access, now_ms: i64) -> Result<(), String> {
    let Some(origin) = &model.imported else {
        return Err("Mô hình không ghi nguồn nhập (tệp, dòng).".into());
    };
    let unit = model.unit.as_str();
    if origin.by != username {
        return Err("Mô hình nhập từ tệp phải ghi đúng tên người đang đăng nhập là người nhập.".into());
    }
    if !(access.can_write(unit) || access.can_review(unit) || access.can_manage(unit)) {
        return Err(format!("Bạn không có quyền nhập mô hình cho đơn vị {}.", unit.chars().take(40).collect::<String>()));
    }
    if !model.evaluations.is_empty() || !model.replications.is_empty() || !model.journal.is_empty() || model.replicated_from.is_some() {
        return Err("Mô hình nhập từ tệp chỉ ghi nội dung, các bước và khen thưởng; phiếu chấm, nhật ký và nhân rộng được ghi sau trong ứng dụng.".into());
    }
    let mut ids = std::collections::HashSet::new();
    let mut previous = i64::MIN;
    let may_review_at = |level: Option<Level>| -> Result<(), String> {
        let Some(held) = access.review_level(unit) else {
            return Err("Chỉ người bình xét của đơn vị hoặc cấp trên mới được nhập mô hình đã được bình xét (công nhận, không công nhận, điển hình, khen thưởng).".into());
        };
        match level {
            Some(level) if level.rank() > held.rank() => Err(format!(
                "Bạn bình xét ở {}, không được nhập mô hình được công nhận hay khen thưởng ở {}.",
                held.label().to_lowercase(),
                level.label().to_lowercase()
            )),
            _ => Ok(()),
        }
    };
    for step in &model.transitions {
        if !ids.insert(step.id.as_str()) {
            return Err("Hai bước của mô hình nhập trùng mã.".into());
        }
        if step.by != username {
            return Err("Mỗi bước của mô hình nhập phải ghi dưới tên người đang đăng nhập.".into());
        }
        let Some(action) = Action::from_code(&step.action) else {
            return Err("Mô hình nhập có bước không có trong quy trình.".into());
        };
        if step.at <= previous {
            return Err("Các bước của mô hình nhập phải theo thứ tự thời gian.".into());
        }
        previous = step.at;
        if step.at > now_ms.saturating_add(MAX_CLOCK_AHEAD_MS) {
            return Err("Bước của mô hình nhập ghi thời điểm sau giờ máy chủ.".into());
        }
        if action.needs_reason() && step.reason.trim().is_empty() {
            return Err(format!("Bước “{}” cần ghi lý do.", action.label()));
        }
        if step.reason.chars().count() > 2000 {
            return Err("Lý do của một bước dài quá 2.000 ký tự.".into());
        }
        if action.actor() == Actor::Reviewer {
            let level = match action {
                Action::Recognise | Action::MarkExemplary => Some(Level::from_code(&step.level).ok_or_else(|| format!("Bước “{}” cần ghi cấp.", action.label()))?),
                _ => None,
            };
            may_review_at(level)?;
        }
    }
    // The history must be one the rules allow from the start, each step applied: an import
    // records what happened, not a race between offline devices.
    let (_, steps) = replay(&model.transitions);
    if steps.iter().any(|s| s.to.is_none()) {
        return Err("Các bước của mô hình nhập không theo đúng quy trình (đăng ký → thực hiện → đề nghị → công nhận…).".into());
    }
    for c in &model.commendations {
        if !ids.insert(c.id.as_str()) {
            return Err("Hai khen thưởng của mô hình nhập trùng mã.".into());
        }
        if c.by != username {
            return Err("Khen thưởng của mô hình nhập phải ghi dưới tên người đang đăng nhập.".into());
        }
        let level = Level::from_code(&c.level).ok_or("Khen thưởng của mô hình nhập cần ghi cấp.")?;
        may_review_at(Some(level))?;
    }
    Ok(())
}
