//! The server's administrative commands, run as an operator would: the real binary against a
//! database file.

use std::process::Command;

fn server(db: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_danvan-server"))
        .arg("--database")
        .arg(db)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("danvan-server runs")
}

#[test]
fn import_units_saves_a_good_file_and_refuses_a_bad_one_row_by_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite3");
    let good = dir.path().join("units.csv");
    std::fs::write(
        &good,
        "\u{feff}mã,tên,loại,cấp,mã cấp trên,cụm\nCB,Tỉnh ủy Cao Bằng,tinh,tỉnh,,\nCB-BANBO,Xã Bản Bo,Xã/phường,cơ sở,CB,CUM-1\n",
    )
    .unwrap();
    let out = server(&db, &["import-units", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Đã nhập 2 đơn vị: 2 mới"));

    // A file with mistakes: every bad row named, nothing saved (the tree still has 2 units).
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "code,name,kind,level,parent\nCB-NAPONG,Thôn Nà Pồng,thon,co_so,CB-KHONGCO\nCB-BANBO,Xã Bản Bo,hợp tác xã,co_so,CB\n").unwrap();
    let out = server(&db, &["import-units", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Dòng 2: đơn vị cấp trên “CB-KHONGCO” không có"), "{err}");
    assert!(err.contains("Dòng 3: loại đơn vị “hợp tác xã” không hợp lệ"), "{err}");

    let out = server(&db, &["import-units", good.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 mới, 0 cập nhật, 2 không đổi; cây có 2 đơn vị"));

    // Not UTF-8 (a legacy Excel export): a clear message.
    let latin = dir.path().join("latin.csv");
    std::fs::write(&latin, b"code,name\nA,X\xe3 B\n").unwrap();
    let out = server(&db, &["import-units", latin.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CSV UTF-8"));
}

fn with_stdin(db: &std::path::Path, args: &[&str], input: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_danvan-server"))
        .arg("--database")
        .arg(db)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("danvan-server runs");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn accounts_are_bootstrapped_from_the_command_line() {
    use danvan::domain::{Grant, Role};
    use danvan::server::password::verify_password;
    use danvan::server::store::{AccountStore, SqliteStore};

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite3");
    let units = dir.path().join("units.csv");
    std::fs::write(&units, "code,name,kind,level,parent\nCB,Tỉnh ủy Cao Bằng,tinh,tinh,\nCB-BANBO,Xã Bản Bo,xa,co_so,CB\n").unwrap();
    assert!(server(&db, &["import-units", units.to_str().unwrap()]).status.success());

    let out = with_stdin(&db, &["create-admin", "--username", "quantri", "--unit", "CB", "--name", "Nguyễn Văn A"], "mat-khau-du-dai\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Đã tạo tài khoản quantri (Quản trị, Tỉnh ủy Cao Bằng)"));

    // Refusals, each with its reason and nothing stored.
    let refused = |args: &[&str], input: &str, reason: &str| {
        let out = with_stdin(&db, args, input);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(reason), "{args:?}: {err}");
    };
    refused(&["create-admin", "--username", "quantri", "--unit", "CB"], "mat-khau-du-dai\n", "đã có");
    refused(&["create-user", "--username", "canbo", "--unit", "CB-KHONGCO"], "mat-khau-du-dai\n", "Đơn vị “CB-KHONGCO” chưa có");
    refused(&["create-user", "--username", "Cán Bộ", "--unit", "CB-BANBO"], "mat-khau-du-dai\n", "chữ thường không dấu");
    refused(&["create-user", "--username", "canbo", "--unit", "CB-BANBO"], "ngan\n", "ít nhất 10 ký tự");
    refused(&["create-user", "--username", "canbo", "--unit", "CB-BANBO", "--role", "vua"], "mat-khau-du-dai\n", "Vai trò “vua” không có");
    refused(&["disable-user", "--username", "khongco"], "", "Không có tài khoản");

    let out = with_stdin(&db, &["create-user", "--username", "canbo.banbo", "--unit", "CB-BANBO", "--role", "can_bo"], "mat-khau-can-bo\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(with_stdin(&db, &["reset-password", "--username", "canbo.banbo"], "mat-khau-moi-hon\n").status.success());
    assert!(with_stdin(&db, &["disable-user", "--username", "canbo.banbo"], "").status.success());

    let store = SqliteStore::open(&db).unwrap();
    let admin = store.user("quantri").await.unwrap().unwrap();
    assert_eq!((admin.display_name.as_str(), admin.grants.as_slice()), ("Nguyễn Văn A", &[Grant { unit: "CB".into(), role: Role::Admin }][..]));
    assert!(verify_password("mat-khau-du-dai", &admin.password_hash));
    let member = store.user("canbo.banbo").await.unwrap().unwrap();
    assert!(member.disabled);
    assert_eq!(member.grants, [Grant { unit: "CB-BANBO".into(), role: Role::Member }]);
    assert!(verify_password("mat-khau-moi-hon", &member.password_hash));
    assert!(!verify_password("mat-khau-can-bo", &member.password_hash));
    assert!(store.user("canbo").await.unwrap().is_none(), "refused accounts were not stored");
}
