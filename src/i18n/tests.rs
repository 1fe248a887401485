//! The English catalogue against the code: every Vietnamese text of the translated code has an
//! English line, and no line is left that no code says any more.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, TokenStream, TokenTree};

use super::*;

/// Code whose Vietnamese texts reach the interface: each must have an English translation.
const TRANSLATED: &[&str] = &[
    "src/i18n.rs",
    "src/client/app.rs",
    "src/client/pages/settings.rs",

    // the app's pages

    // the app's components, storage, network and engine

    // the on-demand module (reports, import, contests)
    "src/client/reporting",
    "src/client/pages/reports.rs",
    "src/client/pages/import.rs",
    "src/client/pages/contests.rs",

    // the domain

    // import, sync, the API and the server's answers

];

/// Files inside `TRANSLATED` that stay Vietnamese, and why.
const VIETNAMESE_ONLY: &[(&str, &str)] = &[
    // the app's pages

    // the app's components, storage, network and engine

    // the on-demand module (reports, import, contests)
    (
        "src/client/reporting/print.rs",
        "the printed report (the Party's or the State's layout) and the contest's results document: administrative documents, handed in as they are, stay Vietnamese",
    ),

    // the domain

    // import, sync, the API and the server's answers

];

/// The static shell, before the wasm: its texts are translated by `assets/shell.js` itself.
const SHELL: &[&str] = &["assets/shell.js", "index.html"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for entry in entries {
            rust_files(&entry, out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

/// Vietnamese if it holds a letter only Vietnamese uses here (a diacritic or đ).
fn is_vietnamese(text: &str) -> bool {
    text.chars().any(|c| matches!(c, 'À'..='ỹ') && c != '×' && c != '÷' && !matches!(c, '–' | '—' | '‘' | '’' | '“' | '”' | '…' | '•' | '→' | '←' | '·' | '°' | '±' | '²' | '³'))
}

/// What a literal says as a catalogue key: a format string's `{name}`, `{:.1}`… become `{}` and
/// `{{`/`}}` single braces.
fn key_of(literal: &str, is_format: bool) -> String {
    if !is_format {
        return literal.to_string();
    }
    let mut out = String::with_capacity(literal.len());
    let mut chars = literal.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                }
                out.push_str("{}");
            }
            c => out.push(c),
        }
    }
    out
}

/// Every Vietnamese string literal of the code (doc comments and `#[cfg(test)]` items skipped),
/// as a key.
fn literals(tokens: TokenStream, out: &mut BTreeSet<String>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut i = 0;
    let mut skip_next_item = false;
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Punct(p) if p.as_char() == '#' => {
                // An attribute: `#[doc = "…"]` is a comment; `#[cfg(test)]` hides the next item.
                let mut j = i + 1;
                if matches!(tokens.get(j), Some(TokenTree::Punct(p)) if p.as_char() == '!') {
                    j += 1;
                }
                if let Some(TokenTree::Group(g)) = tokens.get(j) {
                    if g.delimiter() == Delimiter::Bracket {
                        let text = g.stream().to_string().replace(' ', "");
                        if text == "cfg(test)" {
                            skip_next_item = true;
                        }
                        i = j + 1;
                        continue;
                    }
                }
                i += 1;
            }
            // `vi("…")`: a text that stays Vietnamese (written into a record, an official document).
            TokenTree::Ident(id) if id == "vi" && matches!(tokens.get(i + 1), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis) => {
                i += 2;
            }
            TokenTree::Group(g) => {
                if skip_next_item && g.delimiter() == Delimiter::Brace {
                    skip_next_item = false;
                } else {
                    literals(g.stream(), out);
                }
                i += 1;
            }
            TokenTree::Punct(p) if p.as_char() == ';' && skip_next_item => {
                skip_next_item = false;
                i += 1;
            }
            TokenTree::Literal(lit) if !skip_next_item => {
                let source = lit.to_string();
                if source.starts_with('"') || source.starts_with("r\"") || source.starts_with("r#") {
                    if let Ok(s) = syn::parse_str::<syn::LitStr>(&source) {
                        let value = s.value();
                        if is_vietnamese(&value) {
                            // Every literal with braces is read as a format string: the catalogue's
                            // `{}` is a placeholder in both cases.
                            out.insert(key_of(&value, value.contains('{')));
                        }
                    }
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
}

fn code_texts() -> BTreeSet<String> {
    let mut files = Vec::new();
    for path in TRANSLATED {
        rust_files(&root().join(path), &mut files);
    }
    let mut texts = BTreeSet::new();
    for file in files {
        let relative = file.strip_prefix(root()).unwrap().to_string_lossy().replace('\\', "/");
        if VIETNAMESE_ONLY.iter().any(|(p, _)| relative.starts_with(p)) || relative.ends_with("/tests.rs") {
            continue;
        }
        let source = std::fs::read_to_string(&file).unwrap();
        let tokens: TokenStream = source.parse().unwrap_or_else(|e| panic!("{relative}: {e:?}"));
        literals(tokens, &mut texts);
    }
    texts
}

/// The static shell's Vietnamese texts: single-quoted JS strings and the HTML's text nodes.
fn shell_texts() -> BTreeSet<String> {
    let mut texts = BTreeSet::new();
    for file in SHELL {
        let source = std::fs::read_to_string(root().join(file)).unwrap();
        // Comments would pair apostrophes ("the app's") as quotes.
        let source: String = if file.ends_with(".js") {
            source.lines().map(|l| if l.trim_start().starts_with("//") { "" } else { l }).collect::<Vec<_>>().join("\n")
        } else {
            source
        };
        let (open, close) = if file.ends_with(".js") { ('\'', '\'') } else { ('>', '<') };
        let mut rest = source.as_str();
        while let Some(start) = rest.find(open) {
            let after = &rest[start + open.len_utf8()..];
            let Some(end) = after.find(close) else { break };
            let text = after[..end].trim();
            if is_vietnamese(text) && !text.contains('\n') {
                texts.insert(text.to_string());
            }
            rest = &after[end + close.len_utf8()..];
        }
    }
    texts
}

#[test]
fn the_english_catalogue_parses() {
    let catalogue = Catalogue::parse(EN_CATALOGUE).unwrap();
    assert!(!catalogue.is_empty());
}

#[test]
fn every_vietnamese_text_of_the_interface_has_an_english_translation() {
    let catalogue = Catalogue::parse(EN_CATALOGUE).unwrap();
    let mut missing: Vec<String> = code_texts().into_iter().chain(shell_texts()).filter(|t| catalogue.get(t).is_none()).collect();
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "{} text(s) without English in src/i18n/en.tsv (add a line: Vietnamese, a tab, English):\n{}",
        missing.len(),
        missing.iter().map(|m| m.replace('\n', "\\n")).collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn the_catalogue_holds_no_text_the_code_no_longer_says() {
    let catalogue = Catalogue::parse(EN_CATALOGUE).unwrap();
    let used: BTreeSet<String> = code_texts().into_iter().chain(shell_texts()).collect();
    let mut stale: Vec<&str> = catalogue.keys().filter(|k| !used.contains(*k)).collect();
    stale.sort();
    assert!(stale.is_empty(), "{} line(s) of src/i18n/en.tsv no code uses any more:\n{}", stale.len(), stale.join("\n"));
}

#[test]
fn english_entries_are_english() {
    // A translation left in Vietnamese (copied, not translated) would pass the checks above.
    let catalogue = Catalogue::parse(EN_CATALOGUE).unwrap();
    let untranslated: Vec<&str> = catalogue
        .keys()
        .filter(|k| catalogue.get(k).is_some_and(|en| is_vietnamese(en) && !ALLOWED_IN_ENGLISH.iter().any(|a| en.contains(a))))
        .collect();
    assert!(untranslated.is_empty(), "English entries with Vietnamese letters:\n{}", untranslated.join("\n"));
}

/// Vietnamese words an English text keeps: the movement's and the language chooser's own names.
const ALLOWED_IN_ENGLISH: &[&str] = &["Dân vận khéo", "Tiếng Việt", "Hội thi"];

#[test]
fn keys_are_found_in_literals_and_format_strings() {
    let mut out = BTreeSet::new();
    let source = r##"
        /// Một chú thích không phải văn bản.
        fn f() { let _ = t("Lưu"); let _ = format!("Đã chấm {done}/{total:.1} ô {{x}}"); view! { <p>"Xóa"</p> }; let _ = vi("Cán bộ"); }
        #[cfg(test)]
        mod tests { fn g() { "Chỉ trong kiểm thử"; } }
        #[cfg(test)]
        const X: &str = "Hằng kiểm thử";
        const Y: &str = r#"Chuỗi "thô""#;
    "##;
    literals(source.parse().unwrap(), &mut out);
    let got: Vec<&str> = out.iter().map(String::as_str).collect();
    assert_eq!(got, ["Chuỗi \"thô\"", "Lưu", "Xóa", "Đã chấm {}/{} ô {x}"]);
}

#[test]
fn fixed_texts_and_templates_translate() {
    let catalogue = Catalogue::parse("# a comment\nLưu\tSave\nTối đa {} ký tự.\tAt most {} characters.\n{} của {}\t{1}'s {0}\nTên mô hình\tModel name\nTrường {} quá dài ({} ký tự).\tThe field {} is too long ({} characters).\n").unwrap();
    assert_eq!(catalogue.get("Lưu"), Some("Save"));
    assert_eq!(catalogue.message("Tối đa 200 ký tự.").as_deref(), Some("At most 200 characters."));
    assert_eq!(catalogue.message("Hà Nội của Việt Nam").as_deref(), Some("Việt Nam's Hà Nội"));
    // What filled a placeholder is translated when it is a catalogue text itself.
    assert_eq!(catalogue.message("Trường Tên mô hình quá dài (250 ký tự).").as_deref(), Some("The field Model name is too long (250 characters)."));
    assert_eq!(catalogue.message("Không có trong danh mục"), None);
    assert_eq!(catalogue.message("Tối đa  ký tự."), None, "an empty placeholder does not fit");
}

#[test]
fn malformed_catalogues_are_refused_with_the_line() {
    assert!(Catalogue::parse("Lưu Save").unwrap_err().contains("line 1"));
    assert!(Catalogue::parse("Lưu\tSave\nLưu\tKeep").unwrap_err().contains("line 2"));
    assert!(Catalogue::parse("Tối đa {} ký tự\tAt most characters").unwrap_err().contains("placeholder"));
    assert!(Catalogue::parse("Xuống\\ndòng\tLine\\nbreak").is_ok());
}

#[test]
fn the_installed_language_translates_and_formats() {
    install(Lang::Vi, None).unwrap();
    assert_eq!(t("Lưu cài đặt"), "Lưu cài đặt");
    assert_eq!(date("2026-12-31"), "31/12/2026");
    assert_eq!(amount(1234.5), "1.234,5");
    install(Lang::En, Some(EN_CATALOGUE)).unwrap();
    assert_eq!(t("Lưu cài đặt"), "Save settings");
    assert_eq!(date("2026-12-31"), "31 Dec 2026");
    assert_eq!(amount(1234.5), "1,234.5");
    assert_eq!(count(5000), "5,000");
    assert_eq!(bytes(3.2 * 1024.0 * 1024.0), "3.2 MB");
    assert_eq!(tf("Không lưu được cài đặt: {}", &[&"quota"]), "Could not save the settings: quota");
    install(Lang::Vi, None).unwrap();
}
