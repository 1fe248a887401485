//! The standard sentences of a review, with a sheet's figures filled in, ready to paste into a
//! report ("Trong 6 tháng đầu năm 2026, 68/68 đơn vị cấp cơ sở đã đăng ký 191 mô hình tập thể và
//! 61 mô hình cá nhân; …"). Vietnamese: the administrative documents are written in it.

use super::{Dimension, PeriodKind, ReportSheet};
use crate::domain::{OwnerKind, Status, format_count_vi};

/// One paragraph per sentence group: registration, the registry as of the end, recognition and
/// exemplary models, commendations, replication. Groups whose figures are all zero are left out,
/// except registration, which a review always states.
pub fn draft_text(sheet: &ReportSheet) -> Vec<String> {
    let f = &sheet.figures;
    let period = &sheet.request.period;
    let n = |v: usize| format_count_vi(v);
    let when = match period.kind {
        PeriodKind::Range => format!("Trong thời gian {}", period.label()),
        PeriodKind::AsOf => format!("Tính đến ngày {}", period.to.vi()),
        _ => format!("Trong {}", period.label()),
    };
    let as_of = period.to.vi();
    let mut out = Vec::new();

    // Registration, by owner kind as reviews put it ("191 mô hình tập thể và 61 mô hình cá nhân").
    let kinds: Vec<String> = sheet
        .breakdown(Dimension::OwnerKind)
        .map(|b| {
            b.rows
                .iter()
                .filter(|r| r.figures.registered > 0)
                .map(|r| {
                    let kind = OwnerKind::ALL.iter().find(|k| k.code() == r.key).map_or(r.label.to_lowercase(), |k| k.label().to_lowercase());
                    format!("{} mô hình {kind}", n(r.figures.registered))
                })
                .collect()
        })
        .unwrap_or_default();
    let coverage = &sheet.coverage;
    let who = if coverage.units > 0 {
        format!("{}/{} đơn vị {} của {}", n(coverage.registering), n(coverage.units), coverage.level.label().to_lowercase(), sheet.scope_name)
    } else {
        sheet.scope_name.clone()
    };
    let registered = match kinds.len() {
        0 => "chưa đăng ký mô hình mới nào".to_string(),
        1 => format!("đã đăng ký {}", kinds[0]),
        _ => {
            let (last, first) = kinds.split_last().expect("two or more");
            format!("đã đăng ký {} mô hình, gồm {} và {}", n(f.registered), first.join(", "), last)
        }
    };
    out.push(format!("{when}, {who} {registered}."));

    // The registry as it stood at the end of the period.
    let mut standing = format!("Tính đến ngày {as_of}, {} có {} mô hình", sheet.scope_name, n(f.total));
    let parts: Vec<String> = [
        (f.status(Status::Registered) + f.status(Status::InProgress), "đang thực hiện"),
        (f.status(Status::Proposed), "đang đề nghị công nhận"),
        (f.status(Status::Returned), "được trả lại để hoàn thiện"),
        (f.recognised(), "đã được công nhận"),
        (f.status(Status::NotRecognised), "không được công nhận"),
        (f.status(Status::Stopped), "đã dừng"),
    ]
    .into_iter()
    .filter(|(v, _)| *v > 0)
    .map(|(v, what)| format!("{} mô hình {what}", n(v)))
    .collect();
    if !parts.is_empty() {
        standing.push_str(&format!(", trong đó {}", parts.join(", ")));
    }
    standing.push('.');
    out.push(standing);

    if f.recognised_in_period > 0 || f.exemplary() > 0 {
        let mut s = format!("{when}, đã công nhận {} mô hình", n(f.recognised_in_period));
        if f.exemplary() > 0 {
            let levels: Vec<String> = f
                .exemplary_by_level
                .iter()
                .filter(|(_, v)| *v > 0)
                .map(|(l, v)| format!("{} {}", n(*v), l.label().to_lowercase()))
                .collect();
            s.push_str(&format!("; tính đến ngày {as_of} có {} mô hình điển hình ({})", n(f.exemplary()), levels.join(", ")));
        }
        s.push('.');
        out.push(s);
    }

    if f.commendations() > 0 {
        let forms: Vec<String> =
            f.commendations_by_form.iter().filter(|(_, v)| *v > 0).map(|(form, v)| format!("{} {}", n(*v), form.label().to_lowercase())).collect();
        out.push(format!(
            "{when}, {} mô hình được khen thưởng với {} lượt khen ({}).",
            n(f.commended_models),
            n(f.commendations()),
            forms.join(", ")
        ));
    }

    if f.replicated_models > 0 {
        out.push(format!("{when}, {} mô hình được nhân rộng tại {} điểm.", n(f.replicated_models), n(f.replication_points)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::{registry, tree};
    use super::super::{Period, ReportRequest, Scope};
    use super::*;

    #[test]
    fn the_draft_states_every_figure_of_the_sheet() {
        let (tree, mut facts) = (tree(), registry());
        let sheet = ReportRequest::new(Scope::Unit("D".into()), Period::year(2025)).run(&tree, &facts);
        assert!(draft_text(&sheet)[0].ends_with("đã đăng ký 3 mô hình tập thể."), "one kind: {:?}", draft_text(&sheet));
        facts[1].owner_kind = OwnerKind::Individual;
        let sheet = ReportRequest::new(Scope::Unit("D".into()), Period::year(2025)).run(&tree, &facts);
        let text = draft_text(&sheet).join("\n");
        let f = &sheet.figures;
        assert!(text.contains("đã đăng ký 3 mô hình, gồm 2 mô hình tập thể và 1 mô hình cá nhân."), "{text}");
        assert!(text.starts_with("Trong năm 2025, "), "{text}");
        assert!(text.contains(&format!("{}/{} đơn vị cấp cơ sở", sheet.coverage.registering, sheet.coverage.units)), "{text}");
        assert!(text.contains(&format!("đã đăng ký {} mô hình, gồm", f.registered)), "{text}");
        assert!(text.contains(&format!("Tính đến ngày 31/12/2025, Đơn vị D có {} mô hình", f.total)), "{text}");
        assert!(text.contains(&format!("đã công nhận {} mô hình", f.recognised_in_period)), "{text}");
        assert!(text.contains(&format!("{} mô hình được khen thưởng với {} lượt khen", f.commended_models, f.commendations())), "{text}");
        assert!(text.contains("1 giấy khen, 1 bằng khen"), "{text}");
        assert!(text.contains(&format!("{} mô hình được nhân rộng tại {} điểm", f.replicated_models, f.replication_points)), "{text}");
    }

    #[test]
    fn a_half_year_with_nothing_new_says_so() {
        let (tree, facts) = (tree(), registry());
        let sheet = ReportRequest::new(Scope::Unit("D".into()), Period::first_half(2019)).run(&tree, &facts);
        let text = draft_text(&sheet);
        assert_eq!(text.len(), 2, "{text:?}");
        assert!(text[0].starts_with("Trong 6 tháng đầu năm 2019, 0/3 đơn vị cấp cơ sở của Đơn vị D chưa đăng ký mô hình mới nào."), "{text:?}");
    }

    #[test]
    fn large_figures_use_vietnamese_thousands() {
        let (tree, facts) = (tree(), registry());
        let mut sheet = ReportRequest::new(Scope::Unit("D".into()), Period::year(2025)).run(&tree, &facts);
        sheet.figures.total = 78_494;
        assert!(draft_text(&sheet)[1].contains("có 78.494 mô hình"));
    }
}
