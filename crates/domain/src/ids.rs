//! Identifiers that Swedish health and social care uses: personnummer, samordningsnummer,
//! regional reservnummer, HSA-id and SCB kommunkod.
//!
//! Every type here is *parsed* once at the edge: a value of the type is valid by construction.

use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::error::Problem;

/// Why an identifier was refused. Each variant names what the user must fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("identifier is empty")]
    Empty,
    #[error("identifier has {0} digits, expected 10 or 12")]
    WrongLength(usize),
    #[error("identifier contains characters other than digits and one separator")]
    NotDigits,
    #[error("no such date: {0}")]
    NoSuchDate(String),
    #[error("the date lies in the future")]
    FutureDate,
    #[error("check digit is wrong: expected {expected}, got {got}")]
    CheckDigit { expected: u8, got: u8 },
    #[error("birth number 000 is never issued")]
    BirthNumberZero,
    #[error("samordningsnummer day must be 60-91, got {0}")]
    SamordningDay(u8),
    #[error("day {0} is a samordningsnummer day (61-91), not a personnummer")]
    IsSamordningsnummer(u8),
    #[error("reservnummer does not match the region's pattern {0}")]
    ReservnummerPattern(String),
    #[error("HSA-id must be SE + 10 digits + '-' + letters/digits, at most 31 characters")]
    HsaId,
    #[error("kommunkod must be 4 digits whose first two are a län code")]
    Kommunkod,
}

impl IdError {
    pub fn problem(&self, field: &str) -> Problem {
        let (sv, en) = match self {
            IdError::Empty => ("Fältet är tomt. Skriv numret.".to_string(), "The field is empty.".to_string()),
            IdError::WrongLength(n) => (
                format!("Numret har {n} siffror. Skriv 12 siffror (ÅÅÅÅMMDD-NNNN) eller 10 (ÅÅMMDD-NNNN)."),
                format!("The number has {n} digits. Write 12 (YYYYMMDD-NNNN) or 10 (YYMMDD-NNNN)."),
            ),
            IdError::NotDigits => (
                "Numret får bara innehålla siffror och ett bindestreck eller plustecken.".into(),
                "The number may only contain digits and one '-' or '+'.".into(),
            ),
            IdError::NoSuchDate(d) => (
                format!("Datumdelen {d} är inget verkligt datum. Kontrollera födelsedatumet."),
                format!("The date part {d} is not a real date. Check the birth date."),
            ),
            IdError::FutureDate => (
                "Födelsedatumet ligger i framtiden. Kontrollera årtalet.".into(),
                "The birth date lies in the future. Check the year.".into(),
            ),
            IdError::CheckDigit { expected, got } => (
                format!("Kontrollsiffran stämmer inte (sista siffran är {got}, men ska vara {expected}). Kontrollera att numret är rätt avskrivet."),
                format!("The check digit is wrong (last digit is {got}, should be {expected}). Check the number was copied correctly."),
            ),
            IdError::BirthNumberZero => (
                "Födelsenumret 000 delas aldrig ut. Kontrollera de fyra sista siffrorna.".into(),
                "Birth number 000 is never issued. Check the last four digits.".into(),
            ),
            IdError::SamordningDay(d) => (
                format!("I ett samordningsnummer är dagen födelsedag + 60 (60–91), men här står {d:02}."),
                format!("In a samordningsnummer the day is birth day + 60 (60-91), but it is {d:02}."),
            ),
            IdError::IsSamordningsnummer(d) => (
                format!("Dagen {d} betyder att detta är ett samordningsnummer, inte ett personnummer. Välj samordningsnummer."),
                format!("Day {d} means this is a samordningsnummer, not a personnummer. Choose samordningsnummer."),
            ),
            IdError::ReservnummerPattern(p) => (
                format!("Reservnumret följer inte regionens mönster ({p})."),
                format!("The reservnummer does not follow the region's pattern ({p})."),
            ),
            IdError::HsaId => (
                "HSA-id ska vara SE, tio siffror, bindestreck och en kod av bokstäver och siffror (högst 31 tecken), t.ex. SE2321000016-1234.".into(),
                "An HSA-id is SE, ten digits, '-' and a code of letters and digits (at most 31 characters), e.g. SE2321000016-1234.".into(),
            ),
            IdError::Kommunkod => (
                "Kommunkoden ska vara fyra siffror där de två första är en länskod, t.ex. 0180 för Stockholm.".into(),
                "A kommunkod is four digits whose first two are a county code, e.g. 0180 for Stockholm.".into(),
            ),
        };
        Problem::invalid_field(field, "invalid_identifier", sv, en)
    }
}

/// Luhn check digit over the 9 digits YYMMDDNNN.
fn luhn_check_digit(nine: &[u8]) -> u8 {
    let sum: u32 = nine
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let v = if i % 2 == 0 { d as u32 * 2 } else { d as u32 };
            v / 10 + v % 10
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// The twelve digits of a personnummer or samordningsnummer, after the input's separator and
/// century have been resolved.
fn twelve_digits(input: &str, today: Date) -> Result<[u8; 12], IdError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(IdError::Empty);
    }
    let mut digits = Vec::with_capacity(12);
    let mut separator = None;
    for (i, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c as u8 - b'0'),
            '-' | '+' if separator.is_none() && i > 0 => separator = Some(c),
            _ => return Err(IdError::NotDigits),
        }
    }
    match digits.len() {
        12 => Ok(digits.try_into().expect("length checked")),
        10 => {
            // The ten-digit form leaves out the century: the person is at most 99 years old
            // with '-', 100 or more with '+' (Folkbokföringslagen 18 §).
            let yy = (digits[0] * 10 + digits[1]) as i16;
            let this_year = today.year();
            let mut year = this_year - (this_year - yy).rem_euclid(100);
            if separator == Some('+') {
                year -= 100;
            } else {
                // Born later this century than today's month-day would put them in the future:
                // same rule as Skatteverket, compare the full date below.
                let month = (digits[2] * 10 + digits[3]) as i8;
                let day = (digits[4] * 10 + digits[5]) as i8;
                let day = if day > 60 { day - 60 } else { day };
                if let Ok(d) = Date::new(year, month.max(1), day.max(1))
                    && d > today
                {
                    year -= 100;
                }
            }
            let mut out = [0u8; 12];
            out[0] = (year / 1000) as u8;
            out[1] = (year / 100 % 10) as u8;
            out[2..].copy_from_slice(&digits);
            Ok(out)
        }
        n => Err(IdError::WrongLength(n)),
    }
}

fn check(digits: &[u8; 12]) -> Result<(), IdError> {
    let expected = luhn_check_digit(&digits[2..11]);
    if digits[11] != expected {
        return Err(IdError::CheckDigit { expected, got: digits[11] });
    }
    if digits[8..11] == [0, 0, 0] {
        return Err(IdError::BirthNumberZero);
    }
    Ok(())
}

fn num(d: &[u8]) -> u16 {
    d.iter().fold(0u16, |acc, &x| acc * 10 + x as u16)
}

fn digits_to_string(d: &[u8; 12]) -> String {
    d.iter().map(|&x| (b'0' + x) as char).collect()
}

/// Personnummer, stored as 12 digits (YYYYMMDDNNNC).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct Personnummer(String);

impl Personnummer {
    /// Parses 12- or 10-digit forms, with or without separator. `today` resolves the century of
    /// the 10-digit form and refuses birth dates in the future.
    pub fn parse(input: &str, today: Date) -> Result<Self, IdError> {
        let d = twelve_digits(input, today)?;
        let (year, month, day) = (num(&d[0..4]) as i16, num(&d[4..6]) as i8, num(&d[6..8]) as i8);
        if day > 60 {
            return Err(IdError::IsSamordningsnummer(day as u8));
        }
        let date =
            Date::new(year, month, day).map_err(|_| IdError::NoSuchDate(format!("{year:04}-{month:02}-{day:02}")))?;
        if date > today {
            return Err(IdError::FutureDate);
        }
        check(&d)?;
        Ok(Self(digits_to_string(&d)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> Date {
        let n = |r: std::ops::Range<usize>| self.0[r].parse::<i16>().expect("digits");
        Date::new(n(0..4), n(4..6) as i8, n(6..8) as i8).expect("validated at parse")
    }

    /// Odd second-last digit = man.
    pub fn is_male(&self) -> bool {
        (self.0.as_bytes()[10] - b'0') % 2 == 1
    }

    /// YYMMDD-NNNC, with '+' from the year the person turns 100.
    pub fn short_form(&self, today: Date) -> String {
        let sep = if today.year() - self.birth_date().year() >= 100 { '+' } else { '-' };
        format!("{}{}{}", &self.0[2..8], sep, &self.0[8..])
    }

    /// YYYYMMDD-NNNC, how Swedish care shows it on screen.
    pub fn display_long(&self) -> String {
        format!("{}-{}", &self.0[..8], &self.0[8..])
    }
}

impl TryFrom<String> for Personnummer {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        // Stored values carry no century ambiguity; any 'today' after the birth date works.
        Personnummer::parse(&s, Date::MAX)
    }
}
impl From<Personnummer> for String {
    fn from(p: Personnummer) -> String {
        p.0
    }
}

/// Samordningsnummer: birth day + 60, same check digit as a personnummer.
///
/// Position taken: we accept what Skatteverket issues, not only "real" dates. Its own list of
/// issued numbers holds month 00 (unknown month), day 60 (unknown day) and days past the end of
/// the month; all have correct check digits. Refusing them would lock real people out.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct Samordningsnummer(String);

impl Samordningsnummer {
    pub fn parse(input: &str, today: Date) -> Result<Self, IdError> {
        let d = twelve_digits(input, today)?;
        let (year, month, day) = (num(&d[0..4]) as i16, num(&d[4..6]) as i8, num(&d[6..8]) as i8);
        if !(60..=91).contains(&day) {
            return Err(IdError::SamordningDay(day as u8));
        }
        if month > 12 {
            return Err(IdError::NoSuchDate(format!("{year:04}-{month:02}-{:02}", day - 60)));
        }
        if year > today.year() {
            return Err(IdError::FutureDate);
        }
        check(&d)?;
        Ok(Self(digits_to_string(&d)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The birth date when Skatteverket knows it (month 01-12, day 61-91, a real date).
    pub fn birth_date(&self) -> Option<Date> {
        let n = |r: std::ops::Range<usize>| self.0[r].parse::<i16>().expect("digits");
        Date::new(n(0..4), n(4..6) as i8, (n(6..8) - 60) as i8).ok()
    }

    pub fn display_long(&self) -> String {
        format!("{}-{}", &self.0[..8], &self.0[8..])
    }
}

impl TryFrom<String> for Samordningsnummer {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Samordningsnummer::parse(&s, Date::MAX)
    }
}
impl From<Samordningsnummer> for String {
    fn from(p: Samordningsnummer) -> String {
        p.0
    }
}

/// A region's pattern for reservnummer (temporary identities), e.g. Stockholm `99\d{10}`.
/// A setting of the region, never hard-coded.
#[derive(Debug, Clone)]
pub struct ReservnummerRule {
    /// Shared by clones, with the matcher's caches: compiling is the expensive part.
    pattern: std::sync::Arc<regex::Regex>,
}

impl ReservnummerRule {
    pub fn new(pattern: &str) -> Result<Self, regex::Error> {
        Ok(Self { pattern: std::sync::Arc::new(regex::Regex::new(&format!("^(?:{pattern})$"))?) })
    }
    pub fn pattern(&self) -> &str {
        let p = self.pattern.as_str();
        &p[4..p.len() - 2]
    }
}

/// Two rules are the same when their patterns are.
impl PartialEq for ReservnummerRule {
    fn eq(&self, other: &Self) -> bool {
        self.pattern() == other.pattern()
    }
}

impl Eq for ReservnummerRule {}

/// A rule is written as its pattern.
impl Serialize for ReservnummerRule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.pattern())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Reservnummer(String);

impl Reservnummer {
    pub fn parse(input: &str, rule: &ReservnummerRule) -> Result<Self, IdError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(IdError::Empty);
        }
        if rule.pattern.is_match(s) {
            Ok(Self(s.to_string()))
        } else {
            Err(IdError::ReservnummerPattern(rule.pattern().to_string()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a patient is identified. Serialized as `{"kind": "personnummer", "value": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum PatientIdentifier {
    Personnummer(Personnummer),
    Samordningsnummer(Samordningsnummer),
    Reservnummer(Reservnummer),
}

impl PatientIdentifier {
    /// Parses a number typed by a user: personnummer or samordningsnummer told apart by the
    /// day; anything matching the region's reservnummer pattern is a reservnummer.
    pub fn parse(input: &str, today: Date, reserv: Option<&ReservnummerRule>) -> Result<Self, IdError> {
        if let Some(rule) = reserv
            && let Ok(r) = Reservnummer::parse(input, rule)
        {
            return Ok(Self::Reservnummer(r));
        }
        let d = twelve_digits(input, today)?;
        let day = num(&d[6..8]);
        if day >= 60 {
            Samordningsnummer::parse(input, today).map(Self::Samordningsnummer)
        } else {
            Personnummer::parse(input, today).map(Self::Personnummer)
        }
    }

    pub fn value(&self) -> &str {
        match self {
            Self::Personnummer(p) => p.as_str(),
            Self::Samordningsnummer(s) => s.as_str(),
            Self::Reservnummer(r) => r.as_str(),
        }
    }

    /// The birth date the number carries (a reservnummer carries none).
    pub fn birth_date(&self) -> Option<Date> {
        match self {
            Self::Personnummer(p) => Some(p.birth_date()),
            Self::Samordningsnummer(s) => s.birth_date(),
            Self::Reservnummer(_) => None,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Personnummer(_) => "personnummer",
            Self::Samordningsnummer(_) => "samordningsnummer",
            Self::Reservnummer(_) => "reservnummer",
        }
    }

    pub fn display(&self) -> String {
        match self {
            Self::Personnummer(p) => p.display_long(),
            Self::Samordningsnummer(s) => s.display_long(),
            Self::Reservnummer(r) => r.as_str().to_string(),
        }
    }

    /// Rebuilds a stored identifier. Only for values that were validated when written.
    pub fn from_stored(kind: &str, value: &str) -> Result<Self, IdError> {
        match kind {
            "personnummer" => Personnummer::try_from(value.to_string()).map(Self::Personnummer),
            "samordningsnummer" => Samordningsnummer::try_from(value.to_string()).map(Self::Samordningsnummer),
            _ => Ok(Self::Reservnummer(Reservnummer(value.to_string()))),
        }
    }
}

impl fmt::Display for PatientIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

/// HSA-id: `SE` + 10-digit organisation number + `-` + [A-Za-z0-9]+, at most 31 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct HsaId(String);

impl HsaId {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim();
        let b = s.as_bytes();
        let ok = b.len() <= 31
            && b.len() >= 14
            && s[..2].eq_ignore_ascii_case("SE")
            && b[2..12].iter().all(u8::is_ascii_digit)
            && b[12] == b'-'
            && b[13..].iter().all(u8::is_ascii_alphanumeric);
        if ok { Ok(Self(s.to_ascii_uppercase())) } else { Err(IdError::HsaId) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The organisation number the HSA-id is issued under.
    pub fn organisation_number(&self) -> &str {
        &self.0[2..12]
    }
}
impl TryFrom<String> for HsaId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        HsaId::parse(&s)
    }
}
impl From<HsaId> for String {
    fn from(h: HsaId) -> String {
        h.0
    }
}
impl fmt::Display for HsaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The 21 län codes in use (SCB). 02, 11, 15 and 16 were discontinued.
pub const LAN_CODES: [&str; 21] = [
    "01", "03", "04", "05", "06", "07", "08", "09", "10", "12", "13", "14", "17", "18", "19", "20", "21", "22", "23",
    "24", "25",
];

/// SCB kommunkod: 4 digits, the first two are the län.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct Kommunkod(String);

impl Kommunkod {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim();
        if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) && LAN_CODES.contains(&&s[..2]) {
            Ok(Self(s.to_string()))
        } else {
            Err(IdError::Kommunkod)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn lan(&self) -> &str {
        &self.0[..2]
    }
}
impl TryFrom<String> for Kommunkod {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Kommunkod::parse(&s)
    }
}
impl From<Kommunkod> for String {
    fn from(k: Kommunkod) -> String {
        k.0
    }
}
impl fmt::Display for Kommunkod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Makes a valid personnummer for a birth date and a three-digit birth number by computing the
/// check digit. Used by the demo generator; Skatteverket's test numbers use birth numbers 980-999.
pub fn personnummer_with_check_digit(birth: Date, birth_number: u16) -> Personnummer {
    let s = format!("{:04}{:02}{:02}{:03}", birth.year(), birth.month(), birth.day(), birth_number % 1000);
    let digits: Vec<u8> = s.bytes().map(|b| b - b'0').collect();
    let c = luhn_check_digit(&digits[2..11]);
    Personnummer(format!("{s}{c}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const TODAY: Date = date(2026, 11, 23);

    #[test]
    fn twelve_and_ten_digit_forms_name_the_same_person() {
        let a = Personnummer::parse("19121212-1212", TODAY).unwrap();
        let b = Personnummer::parse("121212+1212", TODAY).unwrap();
        let c = Personnummer::parse("191212121212", TODAY).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.short_form(TODAY), "121212+1212");
        assert_eq!(a.display_long(), "19121212-1212");
    }

    #[test]
    fn ten_digit_form_with_minus_is_under_one_hundred() {
        let p = Personnummer::parse("640823-3234", TODAY).unwrap();
        assert_eq!(p.as_str(), "196408233234");
        // A child born this century:
        let child = Personnummer::parse("150916-0006", TODAY);
        assert_eq!(child, Err(IdError::BirthNumberZero));
    }

    #[test]
    fn wrong_check_digit_says_which_digit_is_expected() {
        assert_eq!(Personnummer::parse("19640823-3235", TODAY), Err(IdError::CheckDigit { expected: 4, got: 5 }));
    }

    #[test]
    fn impossible_dates_are_refused() {
        // 1900 was not a leap year; check digit made right so only the date is wrong.
        let bad = personnummer_with_check_digit(date(2000, 2, 28), 123).as_str().replace("20000228", "19000229");
        let digits: Vec<u8> = bad.bytes().map(|b| b - b'0').collect();
        let fixed = format!("{}{}", &bad[..11], luhn_check_digit(&digits[2..11]));
        assert!(matches!(Personnummer::parse(&fixed, TODAY), Err(IdError::NoSuchDate(_))));
    }

    #[test]
    fn future_birth_dates_are_refused() {
        let p = personnummer_with_check_digit(date(2027, 1, 1), 982);
        assert_eq!(Personnummer::parse(p.as_str(), TODAY), Err(IdError::FutureDate));
    }

    #[test]
    fn samordningsnummer_day_is_birth_day_plus_sixty() {
        let s = Samordningsnummer::parse("197302889931", TODAY);
        // 730288-9931 is a listed valid samordningsnummer (born 1973-02-28).
        let s = s.unwrap();
        assert_eq!(s.birth_date(), Some(date(1973, 2, 28)));
        assert!(matches!(
            PatientIdentifier::parse("19730288-9931", TODAY, None),
            Ok(PatientIdentifier::Samordningsnummer(_))
        ));
        assert_eq!(Personnummer::parse("197302889931", TODAY), Err(IdError::IsSamordningsnummer(88)));
    }

    #[test]
    fn reservnummer_follows_the_regions_pattern() {
        let rule = ReservnummerRule::new(r"99\d{10}").unwrap();
        assert!(matches!(
            PatientIdentifier::parse("991234567890", TODAY, Some(&rule)),
            Ok(PatientIdentifier::Reservnummer(_))
        ));
        assert_eq!(Reservnummer::parse("981234567890", &rule), Err(IdError::ReservnummerPattern(r"99\d{10}".into())));
        // Compiled once and shared by clones; written and compared as its pattern.
        let clone = rule.clone();
        assert!(Reservnummer::parse("991234567890", &clone).is_ok());
        assert_eq!(clone, ReservnummerRule::new(r"99\d{10}").unwrap());
        assert_ne!(clone, ReservnummerRule::new(r"98\d{10}").unwrap());
        assert_eq!(serde_json::to_string(&clone).unwrap(), r#""99\\d{10}""#);
    }

    #[test]
    fn hsa_id_shape() {
        assert!(HsaId::parse("SE2321000016-15GT").is_ok());
        assert!(HsaId::parse("se2321000016-abc1").is_ok());
        assert!(HsaId::parse("SE2321000016").is_err());
        assert!(HsaId::parse("SE232100001-X").is_err());
        assert!(HsaId::parse("SE2321000016-AB CD").is_err());
        // 31 characters is the longest allowed.
        assert!(HsaId::parse(&format!("SE2321000016-{}", "A".repeat(18))).is_ok());
        assert!(HsaId::parse(&format!("SE2321000016-{}", "A".repeat(19))).is_err());
        assert_eq!(HsaId::parse("SE2321000016-1").unwrap().organisation_number(), "2321000016");
    }

    #[test]
    fn kommunkod_needs_a_real_lan() {
        assert!(Kommunkod::parse("0180").is_ok());
        assert_eq!(Kommunkod::parse("0280"), Err(IdError::Kommunkod));
        assert_eq!(Kommunkod::parse("180"), Err(IdError::Kommunkod));
    }

    #[test]
    fn generated_personnummer_are_valid() {
        for n in 980..1000 {
            let p = personnummer_with_check_digit(date(1938, 4, 7), n);
            assert_eq!(Personnummer::parse(p.as_str(), TODAY).unwrap(), p);
        }
    }
}
