//! Commendations (khen thưởng, biểu dương) recorded on a model: which form, who issued it at
//! which level, the decision's number and date, for the model's owner or for named people.
//! No IO. Recorded by the reviewers above the model, append-only (a decision is not rewritten).

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use super::dates::Date;
use super::lifecycle::Roles;
use super::model::Level;

/// The form of a commendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommendationForm {
    /// Giấy khen: from the head of a unit.
    Certificate,
    /// Bằng khen: a higher certificate (province, ministry, government).
    HigherCertificate,
    /// Kỷ niệm chương "Vì sự nghiệp Dân vận".
    Medal,
    /// Hoa chúc mừng.
    Flowers,
    Other,
}

impl CommendationForm {
    pub const ALL: [CommendationForm; 5] = [
        CommendationForm::Certificate,
        CommendationForm::HigherCertificate,
        CommendationForm::Medal,
        CommendationForm::Flowers,
        CommendationForm::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CommendationForm::Certificate => "giay_khen",
            CommendationForm::HigherCertificate => "bang_khen",
            CommendationForm::Medal => "ky_niem_chuong",
            CommendationForm::Flowers => "hoa_chuc_mung",
            CommendationForm::Other => "khac",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CommendationForm::Certificate => "Giấy khen",
            CommendationForm::HigherCertificate => "Bằng khen",
            CommendationForm::Medal => "Kỷ niệm chương “Vì sự nghiệp Dân vận”",
            CommendationForm::Flowers => "Hoa chúc mừng",
            CommendationForm::Other => "Hình thức khác",
        }
    }

    pub fn from_code(code: &str) -> Option<CommendationForm> {
        Self::ALL.into_iter().find(|f| f.code() == code)
    }
}

/// One recorded commendation, stored in the model's document (list `commendations`).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Commendation {
    pub id: String,
    /// [`CommendationForm::code`].
    pub form: String,
    /// Who issued it, e.g. "Ban Thường vụ Tỉnh ủy Lai Châu".
    pub issuer: String,
    /// [`Level::code`] of the issuer.
    pub level: String,
    /// Số quyết định, e.g. "125-QĐ/TU".
    pub decision_number: String,
    /// ISO `YYYY-MM-DD`.
    pub decision_date: String,
    /// Named people commended; empty: the model's owner (the collective or person registered).
    pub recipients: String,
    /// Username and name of who recorded it, and when (ms since the epoch).
    pub by: String,
    pub by_name: String,
    pub at: i64,
}

impl Commendation {
    pub fn form_label(&self) -> &str {
        CommendationForm::from_code(&self.form).map_or(self.form.as_str(), |f| f.label())
    }
}

/// The commendation form as typed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommendationDraft {
    pub form: String,
    pub issuer: String,
    pub level: String,
    pub decision_number: String,
    pub decision_date: String,
    pub recipients: String,
}

impl CommendationDraft {
    /// Every problem, keyed by the form control's id, in form order (empty: valid).
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut errors = Vec::new();
        if CommendationForm::from_code(&self.form).is_none() {
            errors.push(("commendation-form", "Hãy chọn hình thức khen thưởng.".to_string()));
        }
        let issuer = self.issuer.trim();
        if issuer.is_empty() {
            errors.push(("commendation-issuer", "Hãy ghi cơ quan, người ký quyết định.".to_string()));
        } else if issuer.chars().count() > 200 {
            errors.push(("commendation-issuer", "Tên cơ quan khen thưởng dài quá 200 ký tự.".to_string()));
        }
        if Level::from_code(&self.level).is_none() {
            errors.push(("commendation-level", "Hãy chọn cấp khen thưởng.".to_string()));
        }
        let number = self.decision_number.trim();
        if number.is_empty() {
            errors.push(("commendation-number", "Hãy ghi số quyết định (ví dụ 125-QĐ/TU).".to_string()));
        } else if number.chars().count() > 60 {
            errors.push(("commendation-number", "Số quyết định dài quá 60 ký tự.".to_string()));
        }
        if Date::parse(self.decision_date.trim()).is_none() {
            errors.push(("commendation-date", "Ngày quyết định không hợp lệ (chọn ngày trên lịch).".to_string()));
        }
        if self.recipients.chars().count() > 1000 {
            errors.push(("commendation-recipients", "Danh sách người được khen dài quá 1.000 ký tự.".to_string()));
        }
        errors
    }

    /// The record to store, once valid.
    pub fn record(&self, id: String, by: &str, by_name: &str, at: i64) -> Commendation {
        Commendation {
            id,
            form: self.form.clone(),
            issuer: self.issuer.trim().to_string(),
            level: self.level.clone(),
            decision_number: self.decision_number.trim().to_string(),
            decision_date: self.decision_date.trim().to_string(),
            recipients: self.recipients.trim().to_string(),
            by: by.to_string(),
            by_name: by_name.to_string(),
            at,
        }
    }
}

/// The server's rule for a change to the commendations: append-only, each new one by the
/// signed-in user, who must review the model's unit.
pub fn check_commendations(before: &[Commendation], after: &[Commendation], username: &str, roles: Roles) -> Result<(), String> {
    let new = super::append_only::appended(before, after)
        .map_err(|e| e.message("khen thưởng", "Không được sửa hay xóa khen thưởng đã ghi nhận."))?;
    for new in new {
        if !roles.reviewer {
            return Err("Chỉ người bình xét của cấp trên mới ghi nhận khen thưởng.".into());
        }
        if new.by != username {
            return Err("Khen thưởng chỉ được ghi dưới tên chính người đang đăng nhập.".into());
        }
    }
    Ok(())
}

impl super::append_only::Entry for Commendation {
    fn entry_id(&self) -> &str {
        &self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> CommendationDraft {
        CommendationDraft {
            form: "bang_khen".into(),
            issuer: "Ban Thường vụ Tỉnh ủy Lai Châu".into(),
            level: "tinh".into(),
            decision_number: "125-QĐ/TU".into(),
            decision_date: "2025-11-20".into(),
            recipients: String::new(),
        }
    }

    #[test]
    fn a_commendation_needs_form_issuer_level_number_and_a_real_date() {
        assert!(draft().validate().is_empty());
        let empty = CommendationDraft::default().validate();
        let keys: Vec<&str> = empty.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["commendation-form", "commendation-issuer", "commendation-level", "commendation-number", "commendation-date"]);
        let bad_date = CommendationDraft { decision_date: "2025-02-30".into(), ..draft() };
        assert_eq!(bad_date.validate()[0].0, "commendation-date");
        let r = draft().record("c1".into(), "bx", "Người bình xét", 5);
        assert_eq!((r.form_label(), r.issuer.as_str()), ("Bằng khen", "Ban Thường vụ Tỉnh ủy Lai Châu"));
    }

    #[test]
    fn commendations_are_recorded_by_reviewers_in_their_own_name_and_never_rewritten() {
        let reviewer = Roles { cadre: false, reviewer: true };
        let cadre = Roles { cadre: true, reviewer: false };
        let one = vec![draft().record("c1".into(), "bx", "B", 1)];
        assert_eq!(check_commendations(&[], &one, "bx", reviewer), Ok(()));
        assert!(check_commendations(&[], &one, "bx", cadre).unwrap_err().contains("bình xét"));
        assert!(check_commendations(&[], &one, "khac", reviewer).unwrap_err().contains("chính người"));
        let mut changed = one.clone();
        changed[0].decision_number = "999".into();
        assert!(check_commendations(&one, &changed, "bx", reviewer).unwrap_err().contains("sửa hay xóa"));
        assert!(check_commendations(&one, &[], "bx", reviewer).is_err());
        assert_eq!(check_commendations(&one, &one, "canbo", cadre), Ok(()), "a cadre's other edits keep them");
    }
}
