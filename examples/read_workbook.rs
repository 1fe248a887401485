//! Prints a workbook's sheets as JSON, read with calamine — so a test outside Rust (the browser
//! end-to-end test) can check a downloaded XLSX with a real reader: `{"Sheet": [[cell, …], …]}`,
//! numbers as JSON numbers (`{"date": "YYYY-MM-DD"}` for dates), text as strings, empty as null.
//!
//!   cargo run --example read_workbook -- FILE.xlsx

use calamine::{Data, Reader, Xlsx, open_workbook};

fn main() {
    let path = std::env::args().nth(1).expect("usage: read_workbook FILE.xlsx");
    let mut book: Xlsx<_> = open_workbook(&path).unwrap_or_else(|e| panic!("{path} is not a readable XLSX: {e}"));
    let mut out = serde_json::Map::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).unwrap_or_else(|e| panic!("sheet {name}: {e}"));
        let rows: Vec<serde_json::Value> = range
            .rows()
            .map(|row| {
                row.iter()
                    .map(|cell| match cell {
                        Data::Int(i) => serde_json::json!(i),
                        Data::Float(f) => serde_json::json!(f),
                        Data::String(s) => serde_json::json!(s),
                        Data::Bool(b) => serde_json::json!(b),
                        Data::DateTime(d) => {
                            let (y, m, day, ..) = d.to_ymd_hms_milli();
                            serde_json::json!({ "date": format!("{y:04}-{m:02}-{day:02}") })
                        }
                        Data::DateTimeIso(s) => serde_json::json!({ "date": s }),
                        Data::Empty => serde_json::Value::Null,
                        other => serde_json::json!(other.to_string()),
                    })
                    .collect()
            })
            .collect();
        out.insert(name, serde_json::Value::Array(rows));
    }
    println!("{}", serde_json::Value::Object(out));
}
