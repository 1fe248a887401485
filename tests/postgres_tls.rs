//! PostgreSQL over TLS: `sslmode=require` in the database URL is honoured (on today's main the
//! store connects without any TLS implementation and such a URL fails), the database's certificate
//! is verified against `sslrootcert` — a certificate from another authority is refused — and the
//! connections the store holds are encrypted, as the database itself reports (`pg_stat_ssl`).
//!
//! Runs against the throwaway cluster of `.ci/postgres` (DANVAN_TEST_POSTGRES_URL), whose
//! superuser turns TLS on with a certificate made here (rcgen) for 127.0.0.1.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::Path;

use common::*;
use danvan::server::store::postgres::PostgresStore;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

/// A certificate authority and a database certificate it signed for 127.0.0.1 / localhost.
fn authority_and_server_cert() -> (String, String, String) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let cert = server.signed_by(&key, &*ca).unwrap();
    (ca.pem(), cert.pem(), key.serialize_pem())
}

/// Turns TLS on in the test cluster with the given certificate (files in its data directory,
/// owned by the database's system user as PostgreSQL requires for the key).
async fn enable_tls(admin: &tokio_postgres::Client, cert_pem: &str, key_pem: &str) {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let data: String = admin.query_one("SHOW data_directory", &[]).await.unwrap().get(0);
    let owner = std::fs::metadata(&data).unwrap();
    let (cert, key) = (Path::new(&data).join("danvan-test.crt"), Path::new(&data).join("danvan-test.key"));
    for (path, pem) in [(&cert, cert_pem), (&key, key_pem)] {
        std::fs::write(path, pem).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::chown(path, Some(owner.uid()), Some(owner.gid())).unwrap();
    }
    // ALTER SYSTEM runs outside a transaction block: one statement per call.
    for sql in [
        format!("ALTER SYSTEM SET ssl_cert_file = '{}'", cert.display()),
        format!("ALTER SYSTEM SET ssl_key_file = '{}'", key.display()),
        "ALTER SYSTEM SET ssl = on".to_string(),
        "SELECT pg_reload_conf()".to_string(),
    ] {
        admin.simple_query(&sql).await.unwrap();
    }
}

fn with_params(url: &str, params: &str) -> String {
    format!("{url}{}{params}", if url.contains('?') { '&' } else { '?' })
}

#[tokio::test]
async fn sslmode_require_connects_over_verified_tls() {
    let Some(url) = fresh_postgres().await else { return };
    let admin_url = std::env::var("DANVAN_TEST_POSTGRES_URL").unwrap();
    let (admin, conn) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let (ca_pem, cert_pem, key_pem) = authority_and_server_cert();
    enable_tls(&admin, &cert_pem, &key_pem).await;
    let dir = tempfile::tempdir().unwrap();
    let (ca, other_ca) = (dir.path().join("ca.pem"), dir.path().join("other-ca.pem"));
    std::fs::write(&ca, &ca_pem).unwrap();
    std::fs::write(&other_ca, authority_and_server_cert().0).unwrap();
    // The reload reaches new connections within moments.
    let require = with_params(&url, &format!("sslmode=require&sslrootcert={}", ca.display()));
    let mut store = None;
    for _ in 0..50 {
        match PostgresStore::connect(&require).await {
            Ok(s) => {
                store = Some(s);
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    let store = store.expect("the store connects with sslmode=require and the database's CA");
    let database = url.rsplit('/').next().unwrap().split('?').next().unwrap().to_string();
    let encrypted: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE datname = $1 AND ssl",
            &[&database],
        )
        .await
        .unwrap()
        .get(0);
    let clear: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE datname = $1 AND NOT ssl",
            &[&database],
        )
        .await
        .unwrap()
        .get(0);
    assert!(encrypted >= 1, "the store's connections are encrypted");
    assert_eq!(clear, 0, "no connection of the store in clear");
    drop(store);

    // A certificate the given authority did not sign is refused: TLS that is not verified stops
    // only a passive listener.
    let wrong = with_params(&url, &format!("sslmode=require&sslrootcert={}", other_ca.display()));
    let e = PostgresStore::connect(&wrong).await.err().expect("an unknown issuer is refused").to_string();
    eprintln!("refused: {e}");
    assert!(e.to_lowercase().contains("certificate") || e.to_lowercase().contains("tls"), "{e}");
    let missing = with_params(&url, &format!("sslmode=require&sslrootcert={}", dir.path().join("none.pem").display()));
    let e = PostgresStore::connect(&missing).await.err().expect("a missing CA file is refused").to_string();
    assert!(e.contains("sslrootcert") && e.contains("none.pem"), "{e}");
}
