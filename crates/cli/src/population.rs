//! Population figures (residents aged 65 and over per municipality and year, as SCB publishes
//! them) read from CSV, for the follow-up's "days per 1 000 residents 65+".
//!
//! The file has a header row naming the columns `kommun`, `år` (or `ar`, `year`) and
//! `antal_65_plus` (or `residents_65_plus`), separated by semicolons (as a Swedish spreadsheet
//! saves it) or commas. Every row is checked; a file with any bad row is refused as a whole,
//! with each bad row named.

use samverka_domain::ids::Kommunkod;

/// Reads the file's text; on error, one line per problem (in Swedish).
pub fn read(text: &str) -> Result<Vec<(Kommunkod, i16, i64)>, String> {
    let first = text.lines().next().unwrap_or_default();
    let delimiter = if first.contains(';') { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| format!("Rubrikraden kan inte läsas: {e}"))?.clone();
    let column = |names: &[&str]| headers.iter().position(|h| names.contains(&h.to_lowercase().as_str()));
    let (Some(k), Some(y), Some(n)) = (
        column(&["kommun", "kommunkod"]),
        column(&["år", "ar", "year"]),
        column(&["antal_65_plus", "residents_65_plus"]),
    ) else {
        return Err(format!(
            "Rubrikraden ska namnge kolumnerna kommun, år och antal_65_plus (den är: {}).",
            headers.iter().collect::<Vec<_>>().join(", ")
        ));
    };
    let mut rows = vec![];
    let mut problems = vec![];
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("Rad {line}: kan inte läsas ({e})."));
                continue;
            }
        };
        let field = |c: usize| record.get(c).unwrap_or_default();
        let kommun = Kommunkod::parse(field(k));
        let year = field(y).parse::<i16>().ok().filter(|y| (1990..=2100).contains(y));
        let count = field(n).replace([' ', '\u{a0}'], "").parse::<i64>().ok().filter(|n| *n >= 0);
        match (kommun, year, count) {
            (Ok(kommun), Some(year), Some(count)) => rows.push((kommun, year, count)),
            (Err(_), _, _) => problems.push(format!("Rad {line}: \"{}\" är ingen kommunkod (fyra siffror).", field(k))),
            (_, None, _) => problems.push(format!("Rad {line}: \"{}\" är inget årtal.", field(y))),
            (_, _, None) => problems.push(format!("Rad {line}: \"{}\" är inget antal invånare.", field(n))),
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (kommun, year, _) in &rows {
        if !seen.insert((kommun.as_str().to_string(), *year)) {
            problems.push(format!("Kommun {kommun} år {year} finns på mer än en rad."));
        }
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push("Filen har inga rader med befolkningssiffror.".into());
    }
    if problems.is_empty() { Ok(rows) } else { Err(problems.join("\n")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_swedish_spreadsheet_export() {
        let rows = read("Kommun;År;Antal_65_plus\n0184;2026;14 250\n0182;2026;21000\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].0.as_str(), rows[0].1, rows[0].2), ("0184", 2026, 14_250));
        let rows = read("kommun,year,residents_65_plus\n0184,2025,14000\n").unwrap();
        assert_eq!(rows[0].1, 2025);
    }

    #[test]
    fn every_bad_row_is_named() {
        let err = read("kommun;år;antal_65_plus\n0184;2026;x\n99;2026;1\n0184;tjugo;1\n").unwrap_err();
        assert!(err.contains("Rad 2: \"x\" är inget antal"), "{err}");
        assert!(err.contains("Rad 3: \"99\" är ingen kommunkod"), "{err}");
        assert!(err.contains("Rad 4: \"tjugo\" är inget årtal"), "{err}");
        let err = read("kommun;invånare\n0184;1\n").unwrap_err();
        assert!(err.contains("Rubrikraden ska namnge"), "{err}");
        let err = read("kommun;år;antal_65_plus\n0184;2026;1\n0184;2026;2\n").unwrap_err();
        assert!(err.contains("mer än en rad"), "{err}");
        assert!(read("kommun;år;antal_65_plus\n").unwrap_err().contains("inga rader"));
    }
}
