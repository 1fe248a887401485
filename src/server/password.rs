//! Password hashes: argon2id with a random salt per password, stored as PHC strings (the
//! algorithm, its parameters and the salt travel with the hash, so parameters can be raised later
//! without breaking stored ones).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// Constant-time comparison is argon2's; a malformed stored hash verifies nothing.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash_password("dân vận khéo 2025").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("dân vận khéo 2025", &h));
        assert!(!verify_password("dan van kheo 2025", &h));
        assert_ne!(h, hash_password("dân vận khéo 2025").unwrap(), "a new salt each time");
        assert!(!verify_password("x", "not a hash"));
    }
}
