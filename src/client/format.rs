//! Times as people read them on this device (its local time zone).

pub fn hh_mm(ms: i64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!("{:02}:{:02}", d.get_hours(), d.get_minutes())
}

pub fn date_time(ms: i64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!("{:02}:{:02} {:02}/{:02}/{}", d.get_hours(), d.get_minutes(), d.get_date(), d.get_month() + 1, d.get_full_year())
}
