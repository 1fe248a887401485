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
