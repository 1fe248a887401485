//! Writes a CSV given on stdin as an XLSX workbook (one sheet, the first line its header), with
//! the app's own writer (rust_xlsxwriter through `danvan::export`) — so a test outside Rust (the
//! browser end-to-end test of the import) hands the app a real workbook. Whole numbers become
//! number cells, `YYYY-MM-DD` dates become date cells, everything else text.
//!
//!   cargo run --example write_workbook -- OUT.xlsx "Title above the header" < list.csv

use std::io::Read;

use danvan::domain::Date;
use danvan::export::{Cell, Table, xlsx};

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().expect("usage: write_workbook OUT.xlsx [TITLE] < FILE.csv");
    let title = args.next().unwrap_or_default();
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).expect("CSV on stdin");
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers: Vec<String> = reader.headers().expect("a header line").iter().map(str::to_string).collect();
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut table = Table::new("Danh sách", title, &header_refs);
    for record in reader.records() {
        let record = record.expect("a CSV record");
        table.push(
            record
                .iter()
                .map(|v| match (v.parse::<u32>(), Date::parse(v)) {
                    (Ok(n), _) => Cell::from(n),
                    (_, Some(d)) => Cell::from(Some(d)),
                    _ => Cell::from(v),
                })
                .collect(),
        );
    }
    std::fs::write(&out, xlsx(&[table]).expect("the table is writable")).expect("OUT.xlsx written");
}
