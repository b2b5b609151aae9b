//! Every text of the web application, in one file per language (`locales/sv.toml`,
//! `locales/en.toml`), and Swedish (or English) formats for dates, times and amounts.

use std::collections::HashMap;
use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use samverka_domain::calendar::local;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Sv,
    En,
}

pub struct Texts {
    pub lang: &'static str,
    map: HashMap<String, String>,
}

fn load(lang: &'static str, text: &str) -> Texts {
    let table: toml::Table = toml::from_str(text).unwrap_or_else(|e| panic!("locales/{lang}.toml: {e}"));
    let mut map = HashMap::new();
    flatten("", &table, &mut map);
    Texts { lang, map }
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => panic!("{key}: texts must be strings, found {other}"),
        }
    }
}

/// The language cookie every page reads (not a secret: readable, long-lived).
pub const LANG_COOKIE: &str = "samverka-lang";

/// The language a browser chose (Swedish unless it chose English).
pub fn lang_of(headers: &axum::http::HeaderMap) -> Lang {
    match crate::auth::cookie_value(headers, LANG_COOKIE).as_deref() {
        Some("en") => Lang::En,
        _ => Lang::Sv,
    }
}

pub fn texts(lang: Lang) -> &'static Texts {
    static SV: OnceLock<Texts> = OnceLock::new();
    static EN: OnceLock<Texts> = OnceLock::new();
    match lang {
        Lang::Sv => SV.get_or_init(|| load("sv", include_str!("../locales/sv.toml"))),
        Lang::En => EN.get_or_init(|| load("en", include_str!("../locales/en.toml"))),
    }
}

const MONTHS_SV: [&str; 12] = ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"];
const MONTHS_EN: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

impl Texts {
    /// The text for a key; a missing key shows as itself (and a test refuses it).
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.map.get(key).map(String::as_str).unwrap_or(key)
    }

    /// Whether there is a text for the key.
    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// A text with `{name}` placeholders filled in.
    pub fn fill(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = self.get(key).to_string();
        for (k, v) in args {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.map.keys()
    }

    fn sv(&self) -> bool {
        self.lang == "sv"
    }

    fn weekday(&self, d: Date) -> &str {
        let i = d.weekday().to_monday_zero_offset() as usize;
        if self.sv() {
            ["mån", "tis", "ons", "tors", "fre", "lör", "sön"][i]
        } else {
            ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][i]
        }
    }

    /// "23 nov 2026" / "23 Nov 2026".
    pub fn date(&self, d: &Date) -> String {
        let m = if self.sv() { MONTHS_SV } else { MONTHS_EN }[d.month() as usize - 1];
        format!("{} {m} {}", d.day(), d.year())
    }

    /// "mån 23 nov 2026 kl. 14.05" / "Mon 23 Nov 2026 14:05", in Swedish local time.
    pub fn datetime(&self, t: &Timestamp) -> String {
        let z = local(*t);
        let d = z.date();
        if self.sv() {
            format!("{} {} kl. {:02}.{:02}", self.weekday(d), self.date(&d), z.hour(), z.minute())
        } else {
            format!("{} {} {:02}:{:02}", self.weekday(d), self.date(&d), z.hour(), z.minute())
        }
    }

    /// Only the time ("kl. 14.05") when `t` is on the same day as `near`, else in full.
    pub fn datetime_near(&self, t: &Timestamp, near: &Timestamp) -> String {
        let (z, n) = (local(*t), local(*near));
        if z.date() != n.date() {
            return self.datetime(t);
        }
        if self.sv() {
            format!("kl. {:02}.{:02}", z.hour(), z.minute())
        } else {
            format!("{:02}:{:02}", z.hour(), z.minute())
        }
    }

    /// A deadline: one that falls at midnight is the whole of the day before, and is shown
    /// so ("tis 24 nov 2026, hela dagen") rather than as "ons 25 nov kl. 00.00".
    pub fn due(&self, t: &Timestamp) -> String {
        let z = local(*t);
        if z.hour() == 0 && z.minute() == 0 && z.second() == 0 {
            let day = z.date().yesterday().unwrap_or(z.date());
            return format!("{} {}, {}", self.weekday(day), self.date(&day), self.get("deadline.whole_day"));
        }
        self.datetime(t)
    }

    /// ISO form for `<time datetime>` attributes.
    pub fn iso(&self, t: &Timestamp) -> String {
        t.to_string()
    }

    /// "31 500 kr" / "SEK 31,500" from öre.
    pub fn kronor(&self, ore: &i64) -> String {
        let kr = ore / 100;
        let digits = kr.abs().to_string();
        let sep = if self.sv() { '\u{a0}' } else { ',' };
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(sep);
            }
            grouped.push(c);
        }
        let sign = if kr < 0 { "-" } else { "" };
        if self.sv() { format!("{sign}{grouped}\u{a0}kr") } else { format!("SEK {sign}{grouped}") }
    }

    /// A wait in minutes: "4 tim" when whole hours, else "90 min".
    pub fn wait(&self, minutes: u32) -> String {
        if minutes.is_multiple_of(60) {
            self.fill("timeline.hours", &[("n", &(minutes / 60).to_string())])
        } else {
            self.fill("timeline.minutes", &[("n", &minutes.to_string())])
        }
    }

    /// One decimal, with a decimal comma in Swedish: "5,5" / "5.5".
    pub fn decimal(&self, v: f64) -> String {
        let s = format!("{v:.1}");
        if self.sv() { s.replace('.', ",") } else { s }
    }

    /// Whether a date is a weekend (for the inbox's "over the weekend" hints).
    pub fn is_weekend(&self, d: &Date) -> bool {
        matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn both_languages_have_the_same_keys() {
        let sv: std::collections::BTreeSet<_> = texts(Lang::Sv).keys().collect();
        let en: std::collections::BTreeSet<_> = texts(Lang::En).keys().collect();
        let only_sv: Vec<_> = sv.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&sv).collect();
        assert!(only_sv.is_empty() && only_en.is_empty(), "only in sv: {only_sv:?}; only in en: {only_en:?}");
    }

    #[test]
    fn swedish_formats() {
        let sv = texts(Lang::Sv);
        assert_eq!(sv.date(&date(2026, 11, 23)), "23 nov 2026");
        let t: Timestamp = "2026-11-23T13:05:00Z".parse().unwrap();
        assert_eq!(sv.datetime(&t), "mån 23 nov 2026 kl. 14.05");
        assert_eq!(sv.kronor(&3_150_000), "31\u{a0}500\u{a0}kr");
        assert_eq!((sv.decimal(5.54), texts(Lang::En).decimal(5.54)), ("5,5".to_string(), "5.5".to_string()));
        assert_eq!(texts(Lang::En).kronor(&3_150_000), "SEK 31,500");
        assert_eq!(texts(Lang::En).datetime(&t), "Mon 23 Nov 2026 14:05");
        let midnight: Timestamp = "2026-11-24T23:00:00Z".parse().unwrap();
        assert_eq!(sv.due(&midnight), "tis 24 nov 2026, hela dagen");
        assert_eq!(sv.due(&t), "mån 23 nov 2026 kl. 14.05");
        let later: Timestamp = "2026-11-23T15:30:00Z".parse().unwrap();
        assert_eq!(sv.datetime_near(&later, &t), "kl. 16.30");
        assert_eq!(sv.datetime_near(&midnight, &t), "ons 25 nov 2026 kl. 00.00");
    }
}
