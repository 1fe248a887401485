//! Times as people read them on this device (its local time zone), in the interface's language:
//! "14:05 31/12/2026" in Vietnamese, "31 Dec 2026, 14:05" in English (both on a 24-hour clock).

use crate::i18n::{self, Lang};

fn local(ms: i64) -> js_sys::Date {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64))
}

fn clock(d: &js_sys::Date) -> String {
    format!("{:02}:{:02}", d.get_hours(), d.get_minutes())
}

/// The time of day, "14:05".
pub fn hh_mm(ms: i64) -> String {
    clock(&local(ms))
}

/// The time and the day.
pub fn date_time(ms: i64) -> String {
    let d = local(ms);
    let day = i18n::day_month_year(d.get_full_year() as i32, d.get_month() + 1, d.get_date());
    match i18n::lang() {
        Lang::Vi => format!("{} {day}", clock(&d)),
        Lang::En => format!("{day}, {}", clock(&d)),
    }
}
