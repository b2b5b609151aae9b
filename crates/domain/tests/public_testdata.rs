//! The identifier and calendar rules checked against public data nobody here wrote:
//! Skatteverket's test personnummer and samordningsnummer, SCB's kommun codes, and the
//! Swedish public holidays.

use std::collections::BTreeMap;

use jiff::civil::{Date, date};
use samverka_domain::calendar::holiday_name;
use samverka_domain::ids::{IdError, Kommunkod, PatientIdentifier, Personnummer, Samordningsnummer};
use samverka_testkit::testdata;

const TODAY: Date = date(2026, 11, 23);

fn strings(file: &str) -> Vec<String> {
    serde_json::from_str(&testdata(file)).unwrap()
}

#[test]
fn every_sampled_test_personnummer_is_accepted() {
    let all = strings("personnummer/allPins-sample.json");
    assert_eq!(all.len(), 502);
    for p in &all {
        let parsed = Personnummer::parse(p, TODAY).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(parsed.as_str(), p);
        // The 10-digit form round-trips, with '+' for those 100 or older.
        let short = parsed.short_form(TODAY);
        assert_eq!(Personnummer::parse(&short, TODAY).unwrap(), parsed, "{short}");
    }
    let centenarians =
        all.iter().filter(|p| Personnummer::parse(p, TODAY).unwrap().short_form(TODAY).contains('+')).count();
    assert_eq!(centenarians, 99, "the README counts 99 born 1926 or earlier");
}

#[test]
fn every_sampled_samordningsnummer_is_accepted_including_unknown_dates() {
    let all = strings("personnummer/allCoords-sample.json");
    assert_eq!(all.len(), 206);
    let mut unknown_date = 0;
    for s in &all {
        let parsed = Samordningsnummer::parse(s, TODAY).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert!(matches!(PatientIdentifier::parse(s, TODAY, None), Ok(PatientIdentifier::Samordningsnummer(_))));
        if parsed.birth_date().is_none() {
            unknown_date += 1;
        }
    }
    // Month 00 or day 60: Skatteverket issues them, and so we accept them (see ids.rs).
    assert_eq!(unknown_date, 20);
}

#[test]
fn the_listed_cases_are_judged_as_the_list_says() {
    let list: Vec<serde_json::Value> = serde_json::from_str(&testdata("personnummer/list.json")).unwrap();
    assert_eq!(list.len(), 14);
    for entry in &list {
        let valid = entry["valid"].as_bool().unwrap();
        let kind = entry["type"].as_str().unwrap();
        for form in ["long_format", "separated_format", "separated_long"] {
            let input = entry[form].as_str().unwrap();
            let got = PatientIdentifier::parse(input, TODAY, None);
            assert_eq!(got.is_ok(), valid, "{form} {input}: {got:?}");
            if let Ok(id) = got {
                let expected_kind = if kind == "con" { "samordningsnummer" } else { "personnummer" };
                assert_eq!(id.kind(), expected_kind, "{input}");
                if let PatientIdentifier::Personnummer(p) = &id {
                    assert_eq!(p.is_male(), entry["isMale"].as_bool().unwrap(), "{input}");
                }
            }
        }
    }
    // The marked-invalid number with a right check digit is refused for birth number 000.
    assert_eq!(Personnummer::parse("201509160006", TODAY), Err(IdError::BirthNumberZero));
}

#[test]
fn all_290_kommun_codes_parse_and_belong_to_their_lan() {
    let csv = testdata("geo/municipalities.csv");
    let mut n = 0;
    for line in csv.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let k = Kommunkod::parse(cols[0]).unwrap_or_else(|e| panic!("{}: {e}", cols[0]));
        assert_eq!(k.lan(), cols[3]);
        n += 1;
    }
    assert_eq!(n, 290);
    let counties = testdata("geo/counties.csv");
    let codes: Vec<&str> = counties.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(codes, samverka_domain::ids::LAN_CODES);
}

#[test]
fn holidays_match_the_published_calendar_for_twelve_years() {
    let csv = testdata("holidays/se-holidays-2024-2035.csv");
    let published: BTreeMap<Date, String> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            (cols[0].parse().unwrap(), cols[1].to_string())
        })
        .collect();
    assert_eq!(published.len(), 192);
    let mut d = date(2024, 1, 1);
    while d <= date(2035, 12, 31) {
        assert_eq!(holiday_name(d).map(str::to_string), published.get(&d).cloned(), "{d}");
        d = d.tomorrow().unwrap();
    }
}
