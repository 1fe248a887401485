//! The interface's languages: Vietnamese first, English second.
//!
//! Vietnamese is the source language. Every text is written in Vietnamese where it is used (a
//! view, a domain rule's message, a server error), and that text is the key of its translation in
//! the English catalogue `src/i18n/en.tsv` (one line per text: Vietnamese, a tab, English). The
//! client fetches the catalogue only when English is chosen (the service worker precaches it), so a
//! Vietnamese device never downloads or parses a byte of English, and the wasm does not grow with
//! every translated text — the reason for a gettext-like catalogue over a crate that compiles every
//! language into the binary (ARCHITECTURE.md, "Languages").
//!
//! - [`t`] translates a fixed text, [`tf`] a text with `{}` placeholders.
//! - [`tr`] translates a message made at run time by code that speaks only Vietnamese (a domain
//!   rule, the server): the catalogue's entries with placeholders are matched as templates, and
//!   what filled each placeholder is translated too when it is itself a catalogue text.
//! - [`date`], [`count`], [`amount`], [`bytes`]: dates and numbers in the language's conventions.
//!
//! A test (`tests.rs`) reads every Vietnamese string literal of the translated code and fails when
//! the catalogue lacks one, or holds one no code uses any more. Printed administrative documents
//! (reports, contest results, exports) stay Vietnamese and are not in the catalogue.
//!
//! No IO: the client installs the catalogue text it fetched ([`install`]).

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt::Display;

use serde::{Deserialize, Serialize};

use crate::domain::{Date, format_amount_vi, format_bytes_vi, format_count_vi};

#[cfg(test)]
mod tests;

/// The English catalogue, as shipped (the client fetches the same file as `/en.tsv`).
pub const EN_CATALOGUE: &str = include_str!("i18n/en.tsv");

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Vi, Lang::En];

    /// The BCP 47 code (`<html lang>`, the stored choice).
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }
    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
    /// The first start on a device: English for a browser set to English, Vietnamese otherwise.
    pub fn from_browser(language: &str) -> Lang {
        if language.to_ascii_lowercase().starts_with("en") { Lang::En } else { Lang::Vi }
    }
    /// The language's own name, as a chooser shows it.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Vi => vi("Tiếng Việt"),
            Lang::En => "English",
        }
    }
}

/// A parsed catalogue: Vietnamese text → English text.
#[derive(Debug, Default)]
pub struct Catalogue {
    exact: HashMap<String, String>,
    /// The entries with placeholders, as (Vietnamese pieces between the placeholders, English).
    templates: Vec<(Vec<String>, String)>,
}

impl Catalogue {
    /// Reads `vi<TAB>en` lines; `#` starts a comment line; `\n`, `\t` and `\\` are escapes.
    /// A line without a tab, an empty side or a repeated key is an error naming the line.
    pub fn parse(text: &str) -> Result<Catalogue, String> {
        let mut catalogue = Catalogue::default();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((vi, en)) = line.split_once('\t') else {
                return Err(format!("line {}: no tab between the Vietnamese and the English text", number + 1));
            };
            let (vi, en) = (unescape(vi), unescape(en));
            if vi.is_empty() || en.is_empty() {
                return Err(format!("line {}: an empty side", number + 1));
            }
            if placeholders(&vi) != placeholders_used(&en) {
                return Err(format!("line {}: the English text does not use the Vietnamese text's {} placeholder(s)", number + 1, placeholders(&vi)));
            }
            if vi.contains("{}") {
                catalogue.templates.push((vi.split("{}").map(str::to_string).collect(), en.clone()));
            }
            if catalogue.exact.insert(vi, en).is_some() {
                return Err(format!("line {}: the Vietnamese text is already in the catalogue", number + 1));
            }
        }
        // Longer templates first: "Thiếu {} ở dòng {}" before "Thiếu {}".
        catalogue.templates.sort_by_key(|(pieces, _)| std::cmp::Reverse(pieces.iter().map(String::len).sum::<usize>()));
        Ok(catalogue)
    }

    pub fn len(&self) -> usize {
        self.exact.len()
    }
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty()
    }
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.exact.keys().map(String::as_str)
    }
    pub fn get(&self, vi: &str) -> Option<&str> {
        self.exact.get(vi).map(String::as_str)
    }

    /// A message made at run time: the entry itself, else the first template it fits (each
    /// filled-in part translated when it is a catalogue text), else None.
    pub fn message(&self, message: &str) -> Option<String> {
        if let Some(en) = self.exact.get(message) {
            return Some(en.clone());
        }
        // A list of messages joined with "; " (the domain's way): each translated on its own, as
        // the first item's template would otherwise swallow the rest of the list.
        if message.contains("; ") {
            let parts: Option<Vec<String>> = message.split("; ").map(|part| self.message(part)).collect();
            if let Some(parts) = parts {
                return Some(parts.join("; "));
            }
        }
        self.templates.iter().find_map(|(pieces, en)| {
            let args = fit(pieces, message)?;
            let args: Vec<String> = args
                .into_iter()
                .map(|a| self.message(a).or_else(|| self.lowercased(a)).or_else(|| english_value(a)).unwrap_or_else(|| a.to_string()))
                .collect();
            Some(fill(en, &args))
        })
    }
}

impl Catalogue {
    /// A label the Vietnamese lower-cases inside a sentence ("theo đơn vị"): the entry of its
    /// capitalised form, lower-cased too.
    fn lowercased(&self, text: &str) -> Option<String> {
        let mut chars = text.chars();
        let first = chars.next()?;
        if !first.is_lowercase() {
            return None;
        }
        let capitalised: String = first.to_uppercase().chain(chars).collect();
        let en = self.exact.get(&capitalised)?;
        let mut chars = en.chars();
        let first = chars.next()?;
        Some(first.to_lowercase().chain(chars).collect())
    }
}

/// A value the domain wrote the Vietnamese way inside a message, as English writes it: a number
/// with a decimal comma or thousands dots ("12,5" → "12.5", "1.500" → "1,500"), a date
/// ("31/05/2025" → "31 May 2025"). None for anything else (a plain "2025" needs nothing).
fn english_value(value: &str) -> Option<String> {
    if let Some(d) = Date::parse_vi(value) {
        return Some(date_en(d.year, d.month, d.day));
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    // A number: optional sign, groups of three after the first separated by dots, a decimal comma.
    let unsigned = value.strip_prefix('-').unwrap_or(value);
    let (whole, fraction) = match unsigned.split_once(',') {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    let groups: Vec<&str> = whole.split('.').collect();
    let grouped = groups.len() > 1 && groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3);
    let well_formed = groups.iter().all(|g| digits(g)) && fraction.is_none_or(digits) && (grouped || groups.len() == 1);
    (well_formed && (grouped || fraction.is_some())).then(|| swap_separators(value))
}

/// The parts of `message` that fill the placeholders between `pieces`, or None if it does not fit.
fn fit<'m>(pieces: &[String], message: &'m str) -> Option<Vec<&'m str>> {
    let (first, rest) = pieces.split_first()?;
    let mut tail = message.strip_prefix(first.as_str())?;
    let mut args = Vec::with_capacity(rest.len());
    for (i, piece) in rest.iter().enumerate() {
        let last = i + 1 == rest.len();
        let at = if last {
            if !tail.ends_with(piece.as_str()) {
                return None;
            }
            tail.len() - piece.len()
        } else if piece.is_empty() {
            return None; // two placeholders side by side cannot be told apart
        } else {
            tail.find(piece.as_str())?
        };
        let arg = &tail[..at];
        if arg.is_empty() {
            return None;
        }
        args.push(arg);
        tail = &tail[at + piece.len()..];
    }
    Some(args)
}

/// `{}` takes the next argument, `{0}`, `{1}`… a given one (English may need another order);
/// `{0?model|models}` writes the first word when argument 0 is "1", the second otherwise (English
/// counts where Vietnamese does not: "1 model", "3 models").
fn fill(template: &str, args: &[impl AsRef<str>]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut next = 0;
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if plural(&after[..close]).is_some() => {
                let (index, one, many) = plural(&after[..close]).unwrap_or_default();
                out.push_str(if args.get(index).is_some_and(|a| a.as_ref() == "1") { one } else { many });
                rest = &after[close + 1..];
            }
            Some(close) if after[..close].chars().all(|c| c.is_ascii_digit()) => {
                let index = if close == 0 {
                    next += 1;
                    next - 1
                } else {
                    after[..close].parse().unwrap_or(usize::MAX)
                };
                out.push_str(args.get(index).map_or("", AsRef::as_ref));
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `0?model|models` → (0, "model", "models").
fn plural(inside: &str) -> Option<(usize, &str, &str)> {
    let (index, words) = inside.split_once('?')?;
    let (one, many) = words.split_once('|')?;
    Some((index.parse().ok()?, one, many))
}

fn placeholders(vi: &str) -> usize {
    vi.matches("{}").count()
}

/// How many arguments an English template uses (`{}` each count, `{N}` up to N+1).
fn placeholders_used(en: &str) -> usize {
    let mut next = 0;
    let mut highest = 0;
    let mut rest = en;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            // A plural choice reads an argument but does not take one.
            Some(close) if plural(&after[..close]).is_some() => rest = &after[close + 1..],
            Some(close) if after[..close].chars().all(|c| c.is_ascii_digit()) => {
                if close == 0 {
                    next += 1;
                    highest = highest.max(next);
                } else if let Ok(n) = after[..close].parse::<usize>() {
                    highest = highest.max(n + 1);
                }
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    highest
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

// ───────────────────────────── the running interface's language ─────────────────────────────

thread_local! {
    static CURRENT: Cell<(Lang, Option<&'static Catalogue>)> = const { Cell::new((Lang::Vi, None)) };
    /// The installed catalogue's text, for the on-demand module (its own memory installs its own).
    static SOURCE: Cell<Option<&'static str>> = const { Cell::new(None) };
}

/// Sets the interface's language for this module (the app and each on-demand module install their
/// own). English without a catalogue stays Vietnamese rather than showing keys.
pub fn install(lang: Lang, catalogue_text: Option<&str>) -> Result<(), String> {
    let (catalogue, source) = match (lang, catalogue_text) {
        (Lang::Vi, _) => (None, None),
        (Lang::En, Some(text)) => {
            let catalogue: &'static Catalogue = Box::leak(Box::new(Catalogue::parse(text)?));
            (Some(catalogue), Some(&*Box::leak(text.to_string().into_boxed_str())))
        }
        (Lang::En, None) => return Err("no English catalogue".into()),
    };
    CURRENT.with(|c| c.set((lang, catalogue)));
    SOURCE.with(|s| s.set(source));
    Ok(())
}

/// The text of the installed catalogue (None in Vietnamese): what the app hands the on-demand
/// module, which installs it in its own memory.
pub fn catalogue_source() -> Option<&'static str> {
    SOURCE.with(|s| s.get())
}

/// The language the interface speaks now.
pub fn lang() -> Lang {
    CURRENT.with(|c| c.get().0)
}

fn catalogue() -> Option<&'static Catalogue> {
    CURRENT.with(|c| c.get().1)
}

/// A fixed text of the interface, in its language (the Vietnamese text when none is known).
pub fn t(vi: &'static str) -> &'static str {
    catalogue().and_then(|c| c.get(vi)).unwrap_or(vi)
}

/// A text that stays Vietnamese in every language: written into a record or an official document
/// (an author's default name, a printed report's heading). The catalogue's test skips it.
pub const fn vi(text: &'static str) -> &'static str {
    text
}

/// A text with `{}` placeholders, filled with `args` in the interface's language.
pub fn tf(vi: &'static str, args: &[&dyn Display]) -> String {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    fill(t(vi), &args)
}

/// A message made at run time in Vietnamese (a domain rule, the server), in the interface's
/// language when the catalogue knows it, as it came otherwise.
pub fn tr(message: &str) -> String {
    catalogue().and_then(|c| c.message(message)).unwrap_or_else(|| message.to_string())
}

// ───────────────────────────── dates and numbers ─────────────────────────────

const MONTHS_EN: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// A date ("2026-12-31") as people of the language write it: "31/12/2026", "31 Dec 2026". Other
/// text is returned as is.
pub fn date(iso: &str) -> String {
    match (lang(), Date::parse(iso)) {
        (_, None) => iso.to_string(),
        (Lang::Vi, Some(d)) => d.vi(),
        (Lang::En, Some(d)) => date_en(d.year, d.month, d.day),
    }
}

/// Day, month (1–12) and year in the interface's language.
pub fn day_month_year(year: i32, month: u32, day: u32) -> String {
    match lang() {
        Lang::Vi => format!("{day:02}/{month:02}/{year}"),
        Lang::En => date_en(year, month, day),
    }
}

fn date_en(year: impl Display, month: impl TryInto<usize>, day: impl Display) -> String {
    let month = month.try_into().ok().and_then(|m| m.checked_sub(1)).and_then(|m| MONTHS_EN.get(m)).unwrap_or(&"?");
    format!("{day} {month} {year}")
}

/// 5000 → "5.000" / "5,000".
pub fn count(n: usize) -> String {
    match lang() {
        Lang::Vi => format_count_vi(n),
        Lang::En => swap_separators(&format_count_vi(n)),
    }
}

/// 1234.5 → "1.234,5" / "1,234.5".
pub fn amount(v: f64) -> String {
    match lang() {
        Lang::Vi => format_amount_vi(v),
        Lang::En => swap_separators(&format_amount_vi(v)),
    }
}

/// A size in bytes: "3,2 MB" / "3.2 MB".
pub fn bytes(b: f64) -> String {
    match lang() {
        Lang::Vi => format_bytes_vi(b),
        Lang::En => swap_separators(&format_bytes_vi(b)).replace(" byte", " bytes"),
    }
}

/// Vietnamese groups thousands with dots and marks decimals with a comma; English the other way.
fn swap_separators(vi: &str) -> String {
    vi.chars().map(|c| match c {
        '.' => ',',
        ',' => '.',
        c => c,
    }).collect()
}
