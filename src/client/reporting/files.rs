//! Files people take away: the report's tables as one XLSX (a sheet per table) or one table as
//! CSV, and the model list with its filters. Made on the device by `crate::export`, so they work
//! offline; handed to the browser as a download (Blob + object URL). The files stay Vietnamese
//! (administrative documents); their errors are the interface's.

use wasm_bindgen::JsCast;

use crate::domain::report::ReportSheet;
use crate::domain::{Model, fold};
use crate::export::{Table, csv, model_table, report_tables, xlsx};
use crate::i18n::{t, tf, tr};

pub(crate) const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub(crate) const CSV: &str = "text/csv;charset=utf-8";

/// An ASCII file name from Vietnamese words ("Huyện ủy Hà Quảng" → "huyen-uy-ha-quang").
pub fn slug(text: &str) -> String {
    let folded = fold(text);
    let mut out = String::new();
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').chars().take(60).collect()
}

pub fn report_name(sheet: &ReportSheet) -> String {
    format!("bao-cao-{}-{}", slug(&sheet.scope_name), slug(&sheet.request.period.label()))
}

/// The report's tables, for the CSV choice.
pub fn tables(sheet: &ReportSheet) -> Vec<Table> {
    report_tables(sheet)
}

pub fn download_report_xlsx(sheet: &ReportSheet) -> Result<(), String> {
    let bytes = xlsx(&report_tables(sheet)).map_err(|e| tr(&e.to_string()))?;
    download(&format!("{}.xlsx", report_name(sheet)), &bytes, XLSX)
}

pub fn download_report_csv(sheet: &ReportSheet, table: usize) -> Result<(), String> {
    let tables = report_tables(sheet);
    let table = tables.get(table).ok_or(t("Hãy chọn một bảng để xuất."))?;
    download(&format!("{}-{}.csv", report_name(sheet), slug(&table.sheet)), &csv(table), CSV)
}

/// The model list as the app shows it with its current filters (`kind`: "xlsx" or "csv").
pub fn download_models(models: &[u8], kind: &str) -> Result<(), String> {
    let models: Vec<Model> =
        crate::client::engine::api::from_bytes(models).map_err(|e| tf("Không đọc được danh sách mô hình để xuất ({}). Hãy tải lại trang.", &[&e]))?;
    let table = model_table(&models);
    let day = crate::domain::Date::in_vietnam(js_sys::Date::now() as i64);
    match kind {
        "csv" => download(&format!("danh-sach-mo-hinh-{day}.csv"), &csv(&table), CSV),
        _ => download(&format!("danh-sach-mo-hinh-{day}.xlsx"), &xlsx(&[table]).map_err(|e| tr(&e.to_string()))?, XLSX),
    }
}

/// The import's template (`kind`: "xlsx" or "csv"): every column it reads and an example row.
pub fn download_import_template(kind: &str) -> Result<(), String> {
    match kind {
        "csv" => download("mau-nhap-mo-hinh.csv", &crate::import::template::csv(), CSV),
        _ => download("mau-nhap-mo-hinh.xlsx", &crate::import::template::xlsx().map_err(|e| tr(&e.to_string()))?, XLSX),
    }
}

pub(crate) fn download(name: &str, bytes: &[u8], mime: &str) -> Result<(), String> {
    let failed = |what: &str| tf("Trình duyệt không tạo được tệp ({}). Hãy thử lại.", &[&what]);
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|_| failed("Blob"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| failed("URL"))?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or_else(|| failed("document"))?;
    let link = document.create_element("a").map_err(|_| failed("a"))?;
    let _ = link.set_attribute("href", &url);
    let _ = link.set_attribute("download", name);
    let _ = link.set_attribute("hidden", "");
    let body = document.body().ok_or_else(|| failed("body"))?;
    let _ = body.append_child(&link);
    if let Ok(link) = link.clone().dyn_into::<web_sys::HtmlElement>() {
        link.click();
    }
    let _ = body.remove_child(&link);
    // The download has its own reference to the bytes once started; free ours a little later.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000);
    }
    Ok(())
}
