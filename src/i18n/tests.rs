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
    "src/client/format.rs",
    "src/client/pages/admin.rs",
    "src/client/pages/backup.rs",
    "src/client/pages/detail.rs",
    "src/client/pages/form.rs",
    "src/client/pages/list.rs",
    "src/client/pages/mod.rs",
    "src/client/pages/not_found.rs",
    "src/client/pages/sign_in.rs",

    // the app's components, storage, network and engine
    "src/client/components",
    "src/client/local",
    "src/client/net",
    "src/client/engine",

    // the on-demand module (reports, import, contests)
    "src/client/reporting",
    "src/client/pages/reports.rs",
    "src/client/pages/import.rs",
    "src/client/pages/contests.rs",

    // the domain
    "src/domain",

    // import, sync, the API and the server's answers
    "src/import",
    "src/sync",
    "src/api.rs",
    "src/doc.rs",
    "src/doc",
    "src/server",
    "src/export",

    // the rest of the library
    "src/backup_file.rs",
    "src/chart.rs",
    "src/bin",
    "src/main.rs",
    "src/lib.rs",
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
    ("src/domain/report/text.rs", "the review's standard sentences, pasted into the printed report: administrative documents stay Vietnamese"),

    // import, sync, the API and the server's answers
    ("src/import/template.rs", "the import template is a document the user fills in: its headers and guidance stay Vietnamese (the headers are matched when the file is read back)"),
    ("src/export/models.rs", "the model list written as XLSX/CSV: a document, in Vietnamese"),
    ("src/export/contest.rs", "a contest's results as XLSX/CSV and its printed tables: an administrative document, in Vietnamese"),
    ("src/export/write.rs", "writes tables to bytes; no text of its own"),
    ("src/server/cli.rs", "the operator's command line: prints to the terminal only"),
    ("src/server/backup.rs", "backup, restore and export-unit for the command line: its messages reach the terminal only"),
    ("src/backup_file/readme.rs", "the backup's README.txt, in the file itself: Vietnamese, then English"),
    ("src/server/import.rs", "import-models on the command line: ImportFailure's texts and --column problems reach the terminal only (the route answers with its own texts)"),
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
                        // `#[error("…")]` (thiserror) is the message an error shows: interface text.
                        if text.starts_with("error(") && !skip_next_item {
                            literals(g.stream(), out);
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
        let source = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
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
fn every_file_with_vietnamese_texts_is_translated_or_said_to_stay_vietnamese() {
    // A new file would otherwise escape the two tests around this one.
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut forgotten = Vec::new();
    for file in files {
        let relative = file.strip_prefix(root()).unwrap().to_string_lossy().replace('\\', "/");
        let covered = TRANSLATED.iter().chain(VIETNAMESE_ONLY.iter().map(|(p, _)| p)).any(|p| relative == *p || relative.starts_with(&format!("{p}/")));
        if covered || relative.ends_with("/tests.rs") {
            continue;
        }
        let mut texts = BTreeSet::new();
        literals(std::fs::read_to_string(&file).unwrap().parse().unwrap(), &mut texts);
        if !texts.is_empty() {
            forgotten.push(relative);
        }
    }
    assert!(forgotten.is_empty(), "files with Vietnamese texts in neither TRANSLATED nor VIETNAMESE_ONLY: {forgotten:?}");
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
        #[derive(thiserror::Error)]
        enum E { #[error("Tệp hỏng: {0}")] Broken(String) }
    "##;
    literals(source.parse().unwrap(), &mut out);
    let got: Vec<&str> = out.iter().map(String::as_str).collect();
    assert_eq!(got, ["Chuỗi \"thô\"", "Lưu", "Tệp hỏng: {}", "Xóa", "Đã chấm {}/{} ô {x}"]);
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
    // English counts: the word follows the number.
    let counted = Catalogue::parse("Nhập {} mô hình\tImport {} {0?model|models}").unwrap();
    assert_eq!(counted.message("Nhập 1 mô hình").as_deref(), Some("Import 1 model"));
    assert_eq!(counted.message("Nhập 12 mô hình").as_deref(), Some("Import 12 models"));
    // A label lower-cased inside a sentence is found by its capitalised entry.
    assert_eq!(catalogue.message("Trường tên mô hình quá dài (250 ký tự).").as_deref(), Some("The field model name is too long (250 characters)."));
    // A list joined with "; ": every item, not the first item's template swallowing the rest.
    assert_eq!(catalogue.message("Tối đa 5 ký tự.; Tối đa 9 ký tự.").as_deref(), Some("At most 5 characters.; At most 9 characters."));
    assert_eq!(catalogue.message("Tối đa  ký tự."), None, "an empty placeholder does not fit");
}

#[test]
fn numbers_and_dates_the_domain_wrote_the_vietnamese_way_read_the_english_way() {
    let catalogue = Catalogue::parse("Điểm: {}\tScore: {}\nHạn {}\tDue {}\nCó {} mô hình\tThere are {} {0?model|models}\n").unwrap();
    assert_eq!(catalogue.message("Điểm: 12,5").as_deref(), Some("Score: 12.5"));
    assert_eq!(catalogue.message("Điểm: -0,25").as_deref(), Some("Score: -0.25"));
    assert_eq!(catalogue.message("Điểm: 1.234,5").as_deref(), Some("Score: 1,234.5"));
    assert_eq!(catalogue.message("Có 1.500 mô hình").as_deref(), Some("There are 1,500 models"));
    assert_eq!(catalogue.message("Có 1 mô hình").as_deref(), Some("There are 1 model"));
    assert_eq!(catalogue.message("Hạn 31/05/2025").as_deref(), Some("Due 31 May 2025"));
    assert_eq!(catalogue.message("Hạn 1/2/2026").as_deref(), Some("Due 1 Feb 2026"));
    // Left as written: a plain number, a year, what only looks like one.
    assert_eq!(catalogue.message("Điểm: 2025").as_deref(), Some("Score: 2025"));
    assert_eq!(catalogue.message("Điểm: 1.5").as_deref(), Some("Score: 1.5"), "not thousands: a group of one digit");
    assert_eq!(catalogue.message("Điểm: 12.345.67").as_deref(), Some("Score: 12.345.67"));
    assert_eq!(catalogue.message("Hạn 32/13/2025").as_deref(), Some("Due 32/13/2025"));
    assert_eq!(catalogue.message("Điểm: ,5").as_deref(), Some("Score: ,5"));
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

/// The domain's messages as its rules really produce them (not as the catalogue spells them)
/// translate, each filled-in part included: every template matches what the domain says. The data
/// in them (names, codes) is ASCII here, so any Vietnamese left in the English is the catalogue's.
#[test]
fn domain_messages_translate() {
    use crate::domain::contest::{Contest, ContestChange, Judge, PartInput, Prize, PrizeKind, PrizeQuotas, ScoreInput, Stage, check_contest};
    use crate::domain::report::{Dimension, Period};
    use crate::domain::{
        Access, Action, CommendationDraft, CommendationForm, Criterion, Date, Evaluation, EvaluationStep, Grant, Indicator, IndicatorDraft,
        ITEM_LABELS, JournalDraft, Level, Model, ModelDraft, OwnerKind, PhotoRef, Role, Roles, STANDARD_FIELDS, Status, StepContext,
        Transition, UnitKind, UnitTree, check_commendations, check_evaluations, check_journal, check_log, check_password,
        check_replications, check_transition, check_username, evaluate, parse_criteria,
    };

    let mut said: Vec<String> = Vec::new();
    let fields: Vec<String> = STANDARD_FIELDS.iter().map(|(c, _)| c.to_string()).collect();

    // The registration form: everything missing, then everything wrong.
    said.extend(ModelDraft::default().validate(&fields).0.into_iter().map(|(_, m)| m));
    let indicator = |target: &str, achieved: &str| IndicatorDraft { id: "i".into(), name: "Roads".into(), unit: "km".into(), target: target.into(), achieved: achieved.into() };
    let mut draft = ModelDraft {
        name: "x".repeat(201),
        situation: "x".repeat(10_001),
        goals: "g".into(),
        content: "c".into(),
        area: "a".into(),
        forces: "f".into(),
        resources: "r".into(),
        start_date: "2025-01-15".into(),
        end_date: "2024-12-31".into(),
        evaluation_date: "2025-01-01".into(),
        indicators: vec![
            indicator("-1", "abc"),
            indicator("", "1e300"),
            IndicatorDraft { name: String::new(), unit: "u".repeat(51), ..indicator("1", "1") },
            IndicatorDraft { name: "n".repeat(201), ..indicator("1", "1") },
        ],
        sustainability: "s".into(),
        owner_kind: "tap_the".into(),
        owner_name: "Owner".into(),
        field: "kinh_te".into(),
        unit: "Unit".into(),
        level: "co_so".into(),
        year: "1999".into(),
    };
    said.extend(draft.validate(&fields).0.into_iter().map(|(_, m)| m));
    draft.start_date = "2025-02-30".into();
    draft.indicators = (0..51).map(|_| indicator("1", "1")).collect();
    said.extend(draft.validate(&fields).0.into_iter().map(|(_, m)| m));

    // Accounts.
    said.extend(check_username("ab").err());
    said.extend(check_username("Ab!").err());
    said.extend(check_password("short").err());
    said.extend(check_password(" a long passphrase ").err());

    // The lifecycle.
    let cadre = Roles { cadre: true, reviewer: false };
    let reviewer = Roles { cadre: false, reviewer: true };
    said.extend(check_transition(Action::Recognise, Status::Proposed, cadre, "", "").err());
    said.extend(check_transition(Action::Start, Status::Registered, reviewer, "", "").err());
    said.extend(check_transition(Action::Start, Status::Proposed, cadre, "", "").err());
    said.extend(check_transition(Action::Return, Status::Proposed, reviewer, "", "").err());
    said.extend(check_transition(Action::Stop, Status::InProgress, cadre, &"x".repeat(2001), "").err());
    said.extend(check_transition(Action::MarkExemplary, Status::Recognised, reviewer, "", "").err());
    let step = |id: &str, action: &str, by: &str, at: i64| Transition { id: id.into(), action: action.into(), by: by.into(), by_name: by.into(), at, reason: String::new(), level: String::new() };
    let context = StepContext { now_ms: 1_000, ..Default::default() };
    let log = |after: &[Transition], roles: Roles, context: &StepContext| check_log(&[], after, "cb", roles, context).err();
    said.extend(log(&[step("t1", "bay", "cb", 1)], cadre, &context));
    said.extend(log(&[step("t1", "bat_dau", "other", 1)], cadre, &context));
    said.extend(log(&[step("t1", "cong_nhan", "cb", 1)], cadre, &context));
    said.extend(log(&[step("t1", "dung", "cb", 1)], cadre, &context));
    said.extend(log(&[step("t1", "dien_hinh", "cb", 1)], reviewer, &context));
    said.extend(log(&[step("t1", "bat_dau", "cb", 10_000_000)], cadre, &context));
    said.extend(log(&[step("t1", "bat_dau", "cb", 1), step("t1", "bat_dau", "cb", 2)], cadre, &context));
    let seen = StepContext { now_ms: 1_000, seen: [("t2".to_string(), vec!["t1".to_string()])].into() };
    said.extend(log(&[step("t1", "bat_dau", "cb", 5), step("t2", "de_nghi", "cb", 4)], cadre, &seen));
    said.extend(check_log(&[step("t1", "bat_dau", "cb", 1)], &[], "cb", cadre, &context).err());

    // Commendations, replication, the activity log.
    said.extend(CommendationDraft::default().validate().into_iter().map(|(_, m)| m));
    let long = CommendationDraft {
        form: CommendationForm::Certificate.code().into(),
        issuer: "i".repeat(201),
        level: "tinh".into(),
        decision_number: "n".repeat(61),
        decision_date: "2025-01-01".into(),
        recipients: "r".repeat(1001),
    };
    said.extend(long.validate().into_iter().map(|(_, m)| m));
    let commendation = long.record("k1".into(), "rv", "Reviewer", 1);
    said.extend(check_commendations(&[], &[commendation.clone(), commendation.clone()], "rv", reviewer).err());
    said.extend(check_commendations(&[], std::slice::from_ref(&commendation), "rv", cadre).err());
    said.extend(check_commendations(&[], std::slice::from_ref(&commendation), "other", reviewer).err());
    said.extend(check_commendations(std::slice::from_ref(&commendation), &[], "rv", reviewer).err());
    let replication = crate::domain::Replication { id: "m2".into(), unit: "X1".into(), unit_name: "X1".into(), by: "cb".into(), by_name: "Cb".into(), at: 1 };
    said.extend(check_replications(&[], std::slice::from_ref(&replication), "other", |_| true).err());
    said.extend(check_replications(&[], std::slice::from_ref(&replication), "cb", |_| false).err());
    said.extend(check_replications(std::slice::from_ref(&replication), &[], "cb", |_| true).err());
    let indicators = [Indicator { id: "i1".into(), name: "Roads".into(), unit: "km".into(), target: 5.0, achieved: 0.0 }];
    said.extend(JournalDraft::default().validate(&indicators, "2026-01-01").into_iter().map(|(_, m)| m));
    let photo = PhotoRef { id: "p".into(), content_type: "image/jpeg".into(), bytes: 1, width: 1, height: 1 };
    let journal = JournalDraft {
        date: "2027-01-01".into(),
        text: "t".repeat(5001),
        updates: vec![("i1".into(), "abc".into()), ("gone".into(), "-1".into())],
        lat: "100".into(),
        lon: "200".into(),
        photos: vec![photo; 7],
        ..Default::default()
    };
    said.extend(journal.validate(&indicators, "2026-01-01").into_iter().map(|(_, m)| m));
    for (lat, lon) in [("1", ""), ("", "1")] {
        let draft = JournalDraft { date: "2025-01-01".into(), text: "t".into(), lat: lat.into(), lon: lon.into(), ..Default::default() };
        said.extend(draft.validate(&indicators, "2026-01-01").into_iter().map(|(_, m)| m));
    }
    let entry = JournalDraft { date: "2025-01-01".into(), text: "t".into(), ..Default::default() }.record("j1".into(), &indicators, "cb", "Cb", 1);
    said.extend(check_journal(&[], std::slice::from_ref(&entry), "cb", reviewer).err());
    said.extend(check_journal(&[], std::slice::from_ref(&entry), "other", cadre).err());
    said.extend(check_journal(std::slice::from_ref(&entry), &[], "cb", cadre).err());

    // Review against criteria.
    said.extend(parse_criteria(&format!("A | 0\n | 5\n{}\nB\nB", "x".repeat(301)), &[]).err().into_iter().flatten());
    said.extend(parse_criteria("", &[]).err().into_iter().flatten());
    said.extend(parse_criteria(&(1..=31).map(|i| format!("C{i}")).collect::<Vec<_>>().join("\n"), &[]).err().into_iter().flatten());
    let criteria = vec![Criterion { id: "tc1".into(), label: "Criterion A".into(), max: 10 }, Criterion { id: "tc2".into(), label: "Criterion B".into(), max: 10 }];
    let mut model = Model::new("m1".into(), "cb", 1);
    let made = std::cell::Cell::new(0);
    let new_id = || {
        made.set(made.get() + 1);
        format!("e{}", made.get())
    };
    let eval = |model: &mut Model, step: EvaluationStep, roles: Roles| evaluate(model, step, ("rv", "Reviewer"), roles, 10, new_id).err();
    said.extend(eval(&mut model, EvaluationStep::Start(criteria.clone()), cadre));
    said.extend(eval(&mut model, EvaluationStep::Start(criteria.clone()), reviewer));
    said.extend(eval(&mut model, EvaluationStep::Score(Vec::new()), reviewer));
    model.status = Status::Proposed;
    assert_eq!(eval(&mut model, EvaluationStep::Start(criteria.clone()), reviewer), None);
    let row = |c: &str, s: &str| (c.to_string(), s.to_string(), String::new());
    said.extend(eval(&mut model, EvaluationStep::Score(vec![row("tc9", "1")]), reviewer));
    said.extend(eval(&mut model, EvaluationStep::Score(vec![row("tc1", "11")]), reviewer));
    said.extend(eval(&mut model, EvaluationStep::Submit { scores: Vec::new(), result: Action::Recognise, reason: String::new() }, reviewer));
    let scored = vec![row("tc1", "5"), row("tc2", "6")];
    for result in [Action::Reject, Action::Return, Action::Start] {
        said.extend(eval(&mut model, EvaluationStep::Submit { scores: scored.clone(), result, reason: String::new() }, reviewer));
    }
    let sheet = model.evaluations[0].clone();
    said.extend(check_evaluations(std::slice::from_ref(&sheet), &[], "rv", reviewer).err());
    said.extend(check_evaluations(&[], &[sheet.clone(), sheet.clone()], "rv", reviewer).err());
    said.extend(check_evaluations(&[], std::slice::from_ref(&sheet), "other", reviewer).err());
    let mut over = sheet.clone();
    over.scores[0].score = Some(11);
    said.extend(check_evaluations(&[], &[over], "rv", reviewer).err());
    let mut submitted = Evaluation { submitted_at: 5, result: "bay".into(), ..sheet.clone() };
    said.extend(check_evaluations(&[], std::slice::from_ref(&submitted), "rv", reviewer).err());
    submitted.result = Action::Recognise.code().into();
    let mut changed = submitted.clone();
    changed.reason = "r".into();
    said.extend(check_evaluations(std::slice::from_ref(&submitted), &[changed], "rv", reviewer).err());
    said.extend(check_evaluations(std::slice::from_ref(&sheet), &[Evaluation { by: "other".into(), ..sheet.clone() }], "other", reviewer).err());
    said.extend(check_evaluations(std::slice::from_ref(&sheet), &[Evaluation { started_at: 99, ..sheet.clone() }], "rv", reviewer).err());
    said.extend(Evaluation { submitted_at: 5, ..sheet.clone() }.score("tc1", "1", "", 6).err());

    // The unit tree from a file: every row problem, as the server sends them ("Dòng 3: …").
    let bad_header = UnitTree::from_csv("foo,bar\n1,2\n").unwrap_err();
    let rows = "code,name,kind,level,parent\n,No code,xa,co_so,\nbad code!,X,xa,co_so,\nA,,xa,co_so,\nC,Cee,xa,nope,\nD,Dee,xa,co_so,D\nE,Eee,xa,co_so,ZZZ\nA2,Two,xa,co_so,\nA2,Two again,xa,co_so,\nF,Eff,tinh,tinh,G\nG,Gee,xa,co_so,\nH,Aitch,xa,co_so,I\nI,Eye,xa,co_so,H\n";
    let row_errors = UnitTree::from_csv(rows).unwrap_err();
    said.extend(bad_header.iter().chain(&row_errors).map(ToString::to_string));

    // Reports.
    said.extend(Period::years(2020, 2010).err());
    said.extend(Period::range(Date { year: 2025, month: 5, day: 1 }, Date { year: 2025, month: 3, day: 1 }).err());
    let (from, to) = (Date { year: 2025, month: 3, day: 1 }, Date { year: 2025, month: 5, day: 31 });
    said.extend([Period::first_half(2025), Period::year(2025), Period::years(2009, 2019).unwrap(), Period::range(from, to).unwrap(), Period::as_of(to)].map(|p| p.label()));

    // Contests: a district's, two clusters of two communes each, one judge per round.
    let tree = UnitTree::from_csv("code,name,kind,level,parent,cluster\nBAVI,Ba Vi,huyen,huyen,,\nX1,X1,xa,co_so,BAVI,CUM-1\nX2,X2,xa,co_so,BAVI,CUM-1\nX3,X3,xa,co_so,BAVI,CUM-2\nX4,X4,xa,co_so,BAVI,CUM-2\nZ,Z,xa,co_so,,\n").unwrap();
    let (p1, p2, last) = ("so-khao-CUM-1", "so-khao-CUM-2", "chung-khao");
    let mut c = Contest::new("c1".into(), "Contest", Level::District, 2026, "BAVI", "bt", 1);
    let mut next = 0;
    let mut ids = move || {
        next += 1;
        format!("s{next}")
    };
    let mut apply = |c: &mut Contest, change: ContestChange, user: &str| c.apply(change, user, &tree, 10, &mut ids).err().into_iter().flatten().map(|(_, m)| m).collect::<Vec<String>>();
    let part = |label: &str, max: &str| PartInput { id: String::new(), label: label.into(), max: max.into() };
    let rules = |parts: Vec<PartInput>, qualifiers: u32| ContestChange::Rules { name: String::new(), level: Level::District, year: 1990, parts, drop_extremes: false, qualifiers_per_cluster: qualifiers, quotas: PrizeQuotas::default() };
    said.extend(apply(&mut c, rules(vec![part("", "10"), part("A", "0"), part("B", "abc"), part("C", "-1"), part("D", "1,125"), part("E", "5000")], 0), "bt"));
    said.extend(apply(&mut c, rules(Vec::new(), 1), "bt"));
    said.extend(apply(&mut c, ContestChange::Round { round: "none".into(), date: String::new(), venue: String::new(), judges: Vec::new() }, "bt"));
    assert!(apply(&mut c, ContestChange::AddPreliminaries, "bt").is_empty());
    said.extend(apply(&mut c, ContestChange::AddPreliminaries, "bt"));
    // The parts renamed (their default names are Vietnamese data); one team goes on per cluster.
    let parts = ["Intro", "Quiz", "Sketch"].iter().enumerate().map(|(i, l)| PartInput { id: format!("p{}", i + 1), label: l.to_string(), max: "30".into() }).collect();
    let change = ContestChange::Rules { name: "Contest".into(), level: Level::District, year: 2026, parts, drop_extremes: false, qualifiers_per_cluster: 1, quotas: PrizeQuotas::default() };
    assert!(apply(&mut c, change, "bt").is_empty());
    let judge = |u: &str| Judge { username: u.into(), name: u.into() };
    said.extend(apply(&mut c, ContestChange::Round { round: p1.into(), date: "2026-02-30".into(), venue: String::new(), judges: vec![judge(""), judge("gk1"), judge("gk1")] }, "bt"));
    said.extend(apply(&mut c, ContestChange::Round { round: p1.into(), date: String::new(), venue: String::new(), judges: (0..31).map(|i| judge(&format!("j{i}"))).collect() }, "bt"));
    said.extend(apply(&mut c, ContestChange::Excuse { round: p1.into(), judge: "gk1".into(), team: String::new(), reason: String::new(), excused: true }, "bt"));
    said.extend(apply(&mut c, ContestChange::RegisterTeam { unit: String::new(), name: String::new(), members: String::new() }, "bt"));
    said.extend(apply(&mut c, ContestChange::RegisterTeam { unit: "BAVI".into(), name: "Team".into(), members: String::new() }, "bt"));
    said.extend(apply(&mut c, ContestChange::RegisterTeam { unit: "X1".into(), name: "Team X1".into(), members: vec!["m"; 51].join("\n") }, "bt"));
    for close in [p1, p2] {
        said.extend(apply(&mut c, ContestChange::Close { round: close.into() }, "bt"));
    }
    for u in ["X1", "X2", "X3", "X4"] {
        assert!(apply(&mut c, ContestChange::RegisterTeam { unit: u.into(), name: format!("Team {u}"), members: "A\nB".into() }, "bt").is_empty());
    }
    said.extend(apply(&mut c, ContestChange::RegisterTeam { unit: "X1".into(), name: "Again".into(), members: String::new() }, "bt"));
    for round in [p1, p2, last] {
        assert!(apply(&mut c, ContestChange::Round { round: round.into(), date: String::new(), venue: String::new(), judges: vec![judge("gk1")] }, "bt").is_empty());
    }
    let score = |team: &str, part: &str, points: &str, comment: &str| ScoreInput { team: format!("doi-{team}"), part: part.into(), points: points.into(), comment: comment.into() };
    let all = |team: &str, points: &str| ["p1", "p2", "p3"].map(|p| score(team, p, points, "")).to_vec();
    said.extend(apply(&mut c, ContestChange::Score { round: p1.into(), inputs: all("X1", "10") }, "gk9"));
    let bad = vec![score("X3", "p1", "1", ""), score("X1", "p9", "1", ""), score("X1", "p1", "1", &"c".repeat(2001)), score("X1", "p1", "abc", ""), score("X1", "p2", "99", "")];
    said.extend(apply(&mut c, ContestChange::Score { round: p1.into(), inputs: bad }, "gk1"));
    // One score missing; then the two teams tied at the cut.
    let parts_of = |c: &Contest, max: &str| c.parts.iter().map(|p| PartInput { id: p.id.clone(), label: p.label.clone(), max: max.into() }).collect::<Vec<_>>();
    let mut inputs = all("X1", "10");
    inputs.extend(all("X2", "10"));
    inputs.pop();
    assert!(apply(&mut c, ContestChange::Score { round: p1.into(), inputs }, "gk1").is_empty());
    said.extend(apply(&mut c, ContestChange::Close { round: p1.into() }, "bt"));
    assert!(apply(&mut c, ContestChange::Score { round: p1.into(), inputs: vec![score("X2", "p3", "10", "")] }, "gk1").is_empty());
    said.extend(apply(&mut c, ContestChange::Close { round: p1.into() }, "bt"));
    assert!(apply(&mut c, ContestChange::TieBreak { round: p1.into(), order: vec!["doi-X1".into(), "doi-X2".into()] }, "bt").is_empty());
    let mut inputs = all("X3", "10");
    inputs.extend(all("X4", "5"));
    assert!(apply(&mut c, ContestChange::Score { round: p2.into(), inputs }, "gk1").is_empty());
    said.extend(apply(&mut c, ContestChange::Award { prizes: vec![Prize { team: "doi-X1".into(), kind: PrizeKind::First }] }, "bt"));
    said.extend(apply(&mut c, ContestChange::Publish, "bt"));
    assert!(apply(&mut c, ContestChange::Close { round: p1.into() }, "bt").is_empty());
    // One score missing in the final: a list of two or more missing scores does not translate
    // whole (the catalogue matches the first item's template across the "; " that joins them).
    assert!(apply(&mut c, ContestChange::Score { round: last.into(), inputs: all("X1", "10")[..2].to_vec() }, "gk1").is_empty());
    said.extend(apply(&mut c, ContestChange::Close { round: last.into() }, "bt"));
    assert!(apply(&mut c, ContestChange::Close { round: p2.into() }, "bt").is_empty());
    said.extend(apply(&mut c, ContestChange::Close { round: p1.into() }, "bt"));
    said.extend(apply(&mut c, ContestChange::Score { round: p1.into(), inputs: all("X1", "9") }, "gk1"));
    said.extend(apply(&mut c, ContestChange::Round { round: p1.into(), date: String::new(), venue: String::new(), judges: Vec::new() }, "bt"));
    said.extend(apply(&mut c, ContestChange::RegisterTeam { unit: "X2".into(), name: "Again".into(), members: String::new() }, "bt"));
    let change = ContestChange::Rules { name: "Contest".into(), level: Level::District, year: 2026, parts: parts_of(&c, "20"), drop_extremes: false, qualifiers_per_cluster: 1, quotas: PrizeQuotas::default() };
    said.extend(apply(&mut c, change, "bt"));
    // The final: a clear winner, and (in a copy) a tie.
    let mut tied = c.clone();
    let mut inputs = all("X1", "10");
    inputs.extend(all("X3", "9"));
    assert!(apply(&mut c, ContestChange::Score { round: last.into(), inputs }, "gk1").is_empty());
    assert!(apply(&mut c, ContestChange::Close { round: last.into() }, "bt").is_empty());
    let mut inputs = all("X1", "10");
    inputs.extend(all("X3", "10"));
    assert!(apply(&mut tied, ContestChange::Score { round: last.into(), inputs }, "gk1").is_empty());
    assert!(apply(&mut tied, ContestChange::Close { round: last.into() }, "bt").is_empty());
    said.extend(tied.suggest_prizes().err());
    let prize = |team: &str, kind: PrizeKind| Prize { team: format!("doi-{team}"), kind };
    said.extend(tied.check_prizes(&[prize("X1", PrizeKind::First)]).err());
    for prizes in [
        vec![prize("X3", PrizeKind::First)],
        vec![prize("X1", PrizeKind::Second), prize("X3", PrizeKind::First)],
        vec![prize("X1", PrizeKind::First), prize("X3", PrizeKind::First)],
        vec![prize("X2", PrizeKind::First)],
        vec![prize("X1", PrizeKind::First), prize("X1", PrizeKind::Second)],
    ] {
        said.extend(c.check_prizes(&prizes).err());
    }
    // The server's rule: who may change what.
    let member = Access::new(&[Grant { unit: "X1".into(), role: Role::Member }], &tree);
    let organiser = Access::new(&[Grant { unit: "BAVI".into(), role: Role::Reviewer }], &tree);
    let fresh = Contest::new("c2".into(), "Contest", Level::District, 2026, "BAVI", "bt", 1);
    said.extend(check_contest(None, &fresh, "bt", &member, &tree).err());
    said.extend(check_contest(None, &fresh, "other", &organiser, &tree).err());
    let renamed = Contest { name: "Renamed".into(), ..fresh.clone() };
    said.extend(check_contest(Some(&fresh), &renamed, "cb", &member, &tree).err());
    said.extend(check_contest(Some(&fresh), &Contest { unit: "X1".into(), ..fresh.clone() }, "bt", &organiser, &tree).err());
    said.extend(check_contest(Some(&fresh), &Contest { rounds: Vec::new(), ..fresh.clone() }, "bt", &organiser, &tree).err());
    assert!(apply(&mut c, ContestChange::Award { prizes: vec![prize("X1", PrizeKind::First)] }, "bt").is_empty());
    assert!(apply(&mut c, ContestChange::Publish, "bt").is_empty());
    said.extend(apply(&mut c, ContestChange::Publish, "bt"));

    // Fixed labels, as the client shows them with `t`.
    let mut labels: Vec<&'static str> = Vec::new();
    labels.extend(Status::ALL.map(Status::label));
    labels.extend(Level::ALL.map(Level::label));
    labels.extend(OwnerKind::ALL.map(OwnerKind::label));
    labels.extend(Action::ALL.map(Action::label));
    labels.extend(CommendationForm::ALL.map(CommendationForm::label));
    labels.extend(UnitKind::ALL.map(UnitKind::label));
    labels.extend(Role::ALL.map(Role::label));
    labels.extend(PrizeKind::ALL.map(PrizeKind::label));
    labels.extend(Dimension::ALL.map(Dimension::label));
    labels.extend(ITEM_LABELS.map(|(_, l)| l));
    labels.extend(STANDARD_FIELDS.map(|(_, l)| l));
    labels.extend([Stage::Preliminary, Stage::Final].map(Contest::stage_label));
    labels.extend([ContestChange::AddPreliminaries, ContestChange::Publish, ContestChange::Close { round: String::new() }].map(|c| c.message()));

    install(Lang::En, Some(EN_CATALOGUE)).unwrap();
    let mut untranslated: Vec<String> = said.iter().map(|m| (m, tr(m))).filter(|(_, en)| is_vietnamese(en)).map(|(m, en)| format!("{m}\n  → {en}")).collect();
    untranslated.extend(labels.iter().filter(|l| is_vietnamese(t(l))).map(|l| l.to_string()));
    let english: Vec<String> = said.iter().map(|m| tr(m)).collect();
    install(Lang::Vi, None).unwrap();
    said.sort();
    said.dedup();
    assert!(said.len() > 150, "the rules said only {} different messages", said.len());
    assert!(untranslated.is_empty(), "{} domain message(s) the catalogue does not translate:\n{}", untranslated.len(), untranslated.join("\n"));
    // Spot checks: a filled-in part is translated too.
    for expected in [
        "Enter the model name.",
        "Model name: more than 200 characters (now 201).",
        "The target of indicator 1 cannot be negative.",
        "Give the reason for not recognising the model.",
        "Row 2: the unit code is missing.",
        "The round “Preliminary round: CUM-1” has no teams yet.",
        "Team “Team X3” (rank 2) cannot be given First prize while team “Team X1” (rank 1) is given no prize.",
        "Only the contest's organisers (reviewers or administrators of the organising unit) can edit the contest rules.",
    ] {
        assert!(english.iter().any(|e| e == expected), "not said: {expected}\n{}", english.join("\n"));
    }
}

/// What the import, the document layer, sync, exports and the server produce for the app, read in
/// English: every message below is made by the real code, and none keeps a Vietnamese letter once
/// `tr` has translated it (what the user wrote in the file is ASCII here, so any Vietnamese left
/// would be the catalogue's gap).
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn server_and_import_messages_translate() {
    use crate::domain::{Access, Grant, Model, Role, UnitTree};
    use crate::import::read::{read_csv, read_file, read_upload};
    use crate::import::{Importer, Mapping, check_import, plan};
    use automerge::AutoCommit;

    let mut messages: Vec<String> = Vec::new();

    // Reading files: an encoding the app refuses, an empty file, a renamed file, a format the
    // server does not take.
    messages.push(read_file("ds.csv", b"T\xean m\xab h\xefnh,\xa7\xb5n v\xfb\n").unwrap_err().to_string());
    messages.push(read_csv("").unwrap_err().to_string());
    messages.push(read_file("ds.xlsx", b"not a spreadsheet").unwrap_err().to_string());
    messages.push(read_upload("ds.xls", &[0xD0, 0xCF, 0x11, 0xE0, 0, 0, 0, 0]).unwrap_err().to_string());

    // The mapping step: a column not known, two columns for the name, required columns missing.
    let headers: Vec<String> = ["Model", "Name", "Foo"].iter().map(|h| h.to_string()).collect();
    messages.extend(Mapping::guess(&headers).problems(&headers));

    // A row's problems.
    let tree = UnitTree::from_csv("mã,tên,loại,cấp,mã cấp trên,cụm\nP,Province P,tinh,tinh,,\nX,Commune X,xa,co_so,P,\nY,Commune Y,xa,co_so,P,\n").unwrap();
    let access = Access::new(&[Grant { unit: "X".into(), role: Role::Member }], &tree);
    let long_name = "a".repeat(201);
    let long_indicator = format!("{}: 5", "b".repeat(201));
    let csv = format!(
        "Model,Unit,Year,Field,Start date,Indicators\n\
         ,X,2015,Kinh tế,,\n\
         A,NOPE,2015,Kinh tế,,\n\
         B,X,1999,Kinh tế,,\n\
         C,X,2015,Kinh tế,01/07/2030,\n\
         D,X,2015,Kinh tế,31/02/2020,\n\
         E,X,2015,Kinh tế,,abc\n\
         F,X,2015,Kinh tế,,: 5\n\
         G,X,2015,Kinh tế,,{long_indicator}\n\
         {long_name},X,2015,Kinh tế,,\n\
         H,Y,2015,Kinh tế,,\n\
         I,X,2015,Kinh tế,,\n\
         I,X,2015,Kinh tế,,\n"
    );
    let sheet = read_csv(&csv).unwrap();
    let mapping = Mapping::guess(&sheet.headers);
    assert!(mapping.problems(&sheet.headers).is_empty());
    let who = Importer { username: "u", display_name: "U", access: &access, tree: &tree, custom_fields: &[], file_name: "ds.csv", now_ms: 1_796_180_400_000 };
    let planned = plan(&sheet, &mapping, &who);
    assert_eq!(planned.bad_rows(), 11, "{:?}", planned.errors);
    messages.extend(planned.errors.iter().map(|e| e.message.clone()));
    // The server's rule for an imported document.
    messages.push(check_import(&Model::new("m1".into(), "u", 0), "u", &access, 0).unwrap_err());

    // Documents: not the kind expected, changes past the limits.
    let mut doc = crate::doc::create(&Model::new("m1".into(), "u", 0), 0).unwrap();
    messages.push(crate::doc::contest::read_contest(&doc).unwrap_err().to_string());
    let before = doc.get_heads();
    automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "name", "x").unwrap();
    doc.commit();
    let none = crate::doc::ChangeLimits { changes: 0, ops: 0, objects: 0, depth: 0 };
    let too_many = crate::doc::new_changes(&mut doc, &before, none).unwrap_err().to_string();
    messages.push(format!("Máy chủ không nhận thay đổi này: {too_many}."));
    messages.push(too_many);
    let mut contest_kind = AutoCommit::new();
    automerge::transaction::Transactable::put(&mut contest_kind, automerge::ROOT, "kind", crate::doc::contest::KIND).unwrap();
    messages.push(crate::doc::read_model(&contest_kind).unwrap_err().to_string());

    // Sync: a message with too many summaries.
    let mut server = crate::doc::create(&Model::new("m2".into(), "u", 0), 0).unwrap();
    let mut peer = AutoCommit::new();
    automerge::transaction::Transactable::put(&mut peer, automerge::ROOT, "x", 1).unwrap();
    peer.commit();
    let bloom = automerge::sync::BloomFilter::from_hashes(std::iter::once(&peer.get_heads()[0]));
    let mut m = automerge::sync::SyncDoc::generate_sync_message(&mut peer.sync(), &mut automerge::sync::State::new()).unwrap();
    m.have = vec![automerge::sync::Have { last_sync: Vec::new(), bloom }; 5];
    match crate::sync::server_step(&mut server, &m.encode()) {
        Err(crate::sync::StepError::Malformed(e)) => messages.push(format!("Dữ liệu đồng bộ của tài liệu bị hỏng: {e}")),
        other => panic!("{other:?}"),
    }

    // Exports that Excel would refuse.
    messages.push(crate::export::xlsx(&[]).unwrap_err().to_string());
    messages.push(crate::export::xlsx(&[crate::export::Table::new("a/b", "", &["x"])]).unwrap_err().to_string());

    // The server: sign-ins refused for a while, photos it cannot use.
    use crate::server::login_limiter::Refusal;
    for refusal in [Refusal::Account(std::time::Duration::from_secs(300)), Refusal::Address(std::time::Duration::from_secs(30))] {
        messages.push(crate::server::error::ApiError::from(refusal).to_string());
    }
    messages.push(crate::server::photos::inspect(b"not an image").unwrap_err());
    let mut empty_png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    empty_png.extend([0u8; 17]);
    messages.push(crate::server::photos::inspect(&empty_png).unwrap_err());

    install(Lang::En, Some(EN_CATALOGUE)).unwrap();
    let untranslated: Vec<String> = messages
        .iter()
        .inspect(|m| assert!(is_vietnamese(m), "made in Vietnamese: {m}"))
        .map(|m| tr(m))
        .filter(|en| is_vietnamese(en))
        .collect();
    install(Lang::Vi, None).unwrap();
    assert!(messages.len() >= 30, "{messages:#?}");
    assert!(untranslated.is_empty(), "messages left (partly) in Vietnamese:\n{}", untranslated.join("\n"));
}
