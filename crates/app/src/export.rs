//! Files for the finance office: the invoice basis as CSV (semicolons and decimal commas, as a
//! Swedish spreadsheet reads it) and as an Excel workbook (`rust_xlsxwriter`). Every amount
//! stands beside the case and the days it comes from.

use rust_xlsxwriter::{Format, Workbook, XlsxError};
use samverka_domain::agreement::LiabilityModel;
use samverka_domain::liability::{BasisLine, LiabilityBasis};
use samverka_domain::org::CareType;
use samverka_store::ApprovedBasis;

use crate::error::{AppError, AppResult};
use crate::liability::BasisPerson;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Xlsx,
}

impl FileFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            FileFormat::Csv => "text/csv; charset=utf-8",
            FileFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

fn care(c: CareType) -> &'static str {
    match c {
        CareType::Somatic => "somatisk vård",
        CareType::Psychiatric => "psykiatrisk vård",
    }
}

fn model(m: LiabilityModel) -> &'static str {
    match m {
        LiabilityModel::PerCase => "per vårdtillfälle",
        LiabilityModel::Average => "genomsnitt",
    }
}

/// Kronor with a decimal comma, from öre.
fn kronor(ore: i64) -> String {
    let sign = if ore < 0 { "-" } else { "" };
    format!("{sign}{},{:02}", ore.abs() / 100, ore.abs() % 100)
}

fn version_text(approved: Option<&ApprovedBasis>) -> String {
    match approved {
        Some(a) => format!("version {}", a.version),
        None => "preliminärt (inte godkänt)".into(),
    }
}

fn dates(l: &BasisLine) -> String {
    l.liable_dates.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
}

fn export_failed(e: &dyn std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "export failed");
    AppError::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "export_failed",
        "Filen kunde inte skapas. Försök igen.",
        "The file could not be made.",
    )
}

/// The basis as a file of the chosen format.
/// `people` names the person of each line (see [`crate::liability::people`]).
pub fn basis_file(
    basis: &LiabilityBasis,
    approved: Option<&ApprovedBasis>,
    people: &[BasisPerson],
    format: FileFormat,
) -> AppResult<Vec<u8>> {
    match format {
        FileFormat::Csv => csv_file(basis, approved, people),
        FileFormat::Xlsx => xlsx_file(basis, approved, people).map_err(|e| export_failed(&e)),
    }
}

/// The person, ward and admission of a line: empty when unknown.
fn person_of(people: &[BasisPerson], case: samverka_domain::case::CaseId) -> [String; 4] {
    match people.iter().find(|p| p.case_id == case) {
        Some(p) => [p.name.clone(), p.identifier.clone(), p.ward.clone(), p.admitted_on.to_string()],
        None => Default::default(),
    }
}

/// One row per case, then one per group total (`rad` says which).
fn csv_file(basis: &LiabilityBasis, approved: Option<&ApprovedBasis>, people: &[BasisPerson]) -> AppResult<Vec<u8>> {
    let month = format!("{}-{:02}", basis.year, basis.month);
    let version = version_text(approved);
    // A byte-order mark so Excel reads the file as UTF-8 (å, ä, ö).
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(&mut out);
        let fail = |e: csv::Error| export_failed(&e);
        w.write_record([
            "rad",
            "kommun",
            "månad",
            "version",
            "överenskommelse",
            "ärende",
            "vårdform",
            "utskriven",
            "dagar som utskrivningsklar",
            "betalningsansvariga dagar",
            "datum",
            "belopp (kr)",
            "undantag",
            "räknas i månaden",
            "patient",
            "personnummer",
            "avdelning",
            "inskriven",
        ])
        .map_err(fail)?;
        for l in &basis.lines {
            let [name, number, ward, admitted] = person_of(people, l.case_id);
            w.write_record([
                "ärende".to_string(),
                basis.kommun.to_string(),
                month.clone(),
                version.clone(),
                basis.agreement_id.clone(),
                l.case_id.to_string(),
                care(l.care_type).into(),
                l.discharged_on.map(|d| d.to_string()).unwrap_or_default(),
                l.ready_days.to_string(),
                l.liable_dates.len().to_string(),
                dates(l),
                kronor(l.amount_ore),
                l.excluded.map(|x| x.label_sv().to_string()).unwrap_or_default(),
                if l.counted_in_month { "ja" } else { "nej" }.into(),
                name,
                number,
                ward,
                admitted,
            ])
            .map_err(fail)?;
        }
        for g in &basis.groups {
            w.write_record([
                "summa".to_string(),
                basis.kommun.to_string(),
                month.clone(),
                version.clone(),
                basis.agreement_id.clone(),
                String::new(),
                format!("{} ({})", care(g.care_type), model(g.model)),
                String::new(),
                g.window_ready_days.to_string(),
                g.liable_days.to_string_sv(),
                g.explanation_sv.clone(),
                kronor(g.amount_ore),
                String::new(),
                g.episodes.to_string(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ])
            .map_err(fail)?;
        }
        w.flush().map_err(|e| export_failed(&e))?;
    }
    Ok(out)
}

fn xlsx_file(
    basis: &LiabilityBasis,
    approved: Option<&ApprovedBasis>,
    people: &[BasisPerson],
) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00 \"kr\"");
    let days = Format::new().set_num_format("0.00");

    let summary = book.add_worksheet();
    summary.set_name("Underlag")?;
    summary.write_string_with_format(0, 0, "Betalningsunderlag", &bold)?;
    let facts = [
        ("Kommun", basis.kommun.to_string()),
        ("Månad", format!("{}-{:02}", basis.year, basis.month)),
        ("Överenskommelse", basis.agreement_id.clone()),
        ("Version", version_text(approved)),
        ("Godkänt av", approved.map(|a| format!("{}, {}", a.approved_by, a.approved_unit)).unwrap_or_default()),
        ("Godkänt", approved.map(|a| a.approved_at.to_string()).unwrap_or_default()),
        ("Rättelse", approved.map(|a| a.note.clone()).unwrap_or_default()),
    ];
    for (i, (k, v)) in facts.iter().enumerate() {
        summary.write_string_with_format(i as u32 + 2, 0, *k, &bold)?;
        summary.write_string(i as u32 + 2, 1, v)?;
    }
    let top = facts.len() as u32 + 4;
    for (c, h) in ["Vårdform", "Modell", "Vårdtillfällen", "Betalningsansvariga dagar", "Belopp", "Så räknades det"]
        .iter()
        .enumerate()
    {
        summary.write_string_with_format(top, c as u16, *h, &bold)?;
    }
    for (i, g) in basis.groups.iter().enumerate() {
        let r = top + 1 + i as u32;
        summary.write_string(r, 0, care(g.care_type))?;
        summary.write_string(r, 1, model(g.model))?;
        summary.write_number(r, 2, g.episodes as f64)?;
        summary.write_number_with_format(r, 3, g.liable_days.0 as f64 / 100.0, &days)?;
        summary.write_number_with_format(r, 4, g.amount_ore as f64 / 100.0, &money)?;
        summary.write_string(r, 5, &g.explanation_sv)?;
    }
    let total_row = top + 1 + basis.groups.len() as u32;
    summary.write_string_with_format(total_row, 0, "Totalt", &bold)?;
    summary.write_number_with_format(total_row, 4, basis.total_amount_ore as f64 / 100.0, &money)?;
    summary.set_column_width(0, 26)?;
    summary.set_column_width(1, 40)?;
    summary.set_column_width(5, 90)?;

    let lines = book.add_worksheet();
    lines.set_name("Ärenden")?;
    let headers = [
        "Ärende",
        "Vårdform",
        "Utskriven",
        "Dagar som utskrivningsklar",
        "Betalningsansvariga dagar",
        "Datum",
        "Belopp",
        "Undantag",
        "Räknas i månaden",
        "Patient",
        "Personnummer",
        "Avdelning",
        "Inskriven",
    ];
    for (c, h) in headers.iter().enumerate() {
        lines.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, l) in basis.lines.iter().enumerate() {
        let r = i as u32 + 1;
        lines.write_string(r, 0, l.case_id.to_string())?;
        lines.write_string(r, 1, care(l.care_type))?;
        lines.write_string(r, 2, l.discharged_on.map(|d| d.to_string()).unwrap_or_default())?;
        lines.write_number(r, 3, l.ready_days as f64)?;
        lines.write_number(r, 4, l.liable_dates.len() as f64)?;
        lines.write_string(r, 5, dates(l))?;
        lines.write_number_with_format(r, 6, l.amount_ore as f64 / 100.0, &money)?;
        lines.write_string(r, 7, l.excluded.map(|x| x.label_sv()).unwrap_or(""))?;
        lines.write_string(r, 8, if l.counted_in_month { "ja" } else { "nej" })?;
        for (c, v) in person_of(people, l.case_id).iter().enumerate() {
            lines.write_string(r, 9 + c as u16, v)?;
        }
    }
    lines.set_column_width(0, 38)?;
    lines.set_column_width(5, 60)?;
    lines.set_column_width(7, 50)?;
    book.save_to_buffer()
}
