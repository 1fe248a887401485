//! Accounts: who works for which unit, in which role. No IO; password hashing lives in the server.

use serde::{Deserialize, Serialize};

/// What a user may do in a unit (and, for reviewers and administrators, in everything below it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Cán bộ: registers and edits the unit's models.
    Member,
    /// Người bình xét: sees and evaluates the unit's whole subtree.
    Reviewer,
    /// Quản trị: manages the units and users of the subtree.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Member, Role::Reviewer, Role::Admin];

    pub fn code(self) -> &'static str {
        match self {
            Role::Member => "can_bo",
            Role::Reviewer => "binh_xet",
            Role::Admin => "quan_tri",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Member => "Cán bộ",
            Role::Reviewer => "Bình xét",
            Role::Admin => "Quản trị",
        }
    }

    pub fn from_code(code: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// Shortest password accepted (long passphrases beat complex short ones).
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Usernames are typed on phones: lower-case letters without diacritics, digits, ".", "_", "-".
pub fn check_username(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if !(3..=32).contains(&len) {
        return Err("Tên đăng nhập cần từ 3 đến 32 ký tự.".into());
    }
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')) {
        return Err("Tên đăng nhập chỉ gồm chữ thường không dấu, số và các dấu “.”, “_”, “-”.".into());
    }
    Ok(())
}

pub fn check_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!("Mật khẩu cần ít nhất {MIN_PASSWORD_CHARS} ký tự."));
    }
    if password.trim() != password {
        return Err("Mật khẩu không được bắt đầu hay kết thúc bằng khoảng trắng.".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_passwords_are_checked_with_a_reason() {
        assert!(check_username("nguyen.van.a").is_ok());
        assert!(check_username("ab").unwrap_err().contains("3 đến 32"));
        assert!(check_username("Nguyễn").unwrap_err().contains("chữ thường không dấu"));
        assert!(check_password("ngắn").unwrap_err().contains("10"));
        assert!(check_password(" dai-du-muoi-ky-tu").is_err());
        assert!(check_password("dân vận khéo 2025").is_ok());
        assert_eq!(Role::from_code("binh_xet"), Some(Role::Reviewer));
        assert_eq!(Role::from_code("x"), None);
    }
}
