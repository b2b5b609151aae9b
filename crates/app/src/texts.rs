//! Every text of the web application, in one file per language (`locales/sv.toml`,
//! `locales/en.toml`, …), and the formats of dates, times and amounts, which each file gives in
//! its `[format]` table. Every file in `locales/` is embedded (see `build.rs`), so a language —
//! Finnish, say — is added by adding its file; a key it lacks shows the Swedish text.

use std::collections::HashMap;
use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use samverka_domain::calendar::local;

include!(concat!(env!("OUT_DIR"), "/locales.rs"));

/// A language Samverka has a file for, by its code ("sv", "en").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lang(&'static str);

impl Lang {
    /// Swedish: the language of the law and the default.
    pub const SV: Lang = Lang("sv");
    pub const EN: Lang = Lang("en");

    /// The language with this code, if there is a file for it.
    pub fn parse(code: &str) -> Option<Lang> {
        LOCALES.iter().find(|(c, _)| *c == code).map(|(c, _)| Lang(c))
    }

    pub fn code(self) -> &'static str {
        self.0
    }

    /// Every language there is a file for, Swedish first.
    pub fn all() -> impl Iterator<Item = Lang> {
        std::iter::once(Lang::SV).chain(LOCALES.iter().filter(|(c, _)| *c != "sv").map(|(c, _)| Lang(c)))
    }
}

pub struct Texts {
    pub lang: &'static str,
    map: HashMap<String, String>,
    /// Swedish, for the keys this language lacks (none for Swedish itself).
    fallback: Option<&'static Texts>,
    months: Vec<String>,
    weekdays: Vec<String>,
}

fn load(lang: &'static str, text: &str, fallback: Option<&'static Texts>) -> Texts {
    let table: toml::Table = toml::from_str(text).unwrap_or_else(|e| panic!("locales/{lang}.toml: {e}"));
    let mut map = HashMap::new();
    flatten("", &table, &mut map);
    let list = |key: &str, n: usize| -> Vec<String> {
        let value = map.get(key).or_else(|| fallback.and_then(|f| f.map.get(key)));
        let words: Vec<String> = value.map(|v| v.split_whitespace().map(String::from).collect()).unwrap_or_default();
        assert_eq!(words.len(), n, "locales/{lang}.toml: {key} needs {n} words");
        words
    };
    let (months, weekdays) = (list("format.months", 12), list("format.weekdays", 7));
    Texts { lang, map, fallback, months, weekdays }
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

/// The language a browser chose (Swedish unless it chose another there is a file for).
pub fn lang_of(headers: &axum::http::HeaderMap) -> Lang {
    crate::auth::cookie_value(headers, LANG_COOKIE).and_then(|c| Lang::parse(&c)).unwrap_or(Lang::SV)
}

pub fn texts(lang: Lang) -> &'static Texts {
    static ALL: OnceLock<HashMap<&'static str, Texts>> = OnceLock::new();
    static SV: OnceLock<Texts> = OnceLock::new();
    let sv = SV.get_or_init(|| {
        let (_, text) = LOCALES.iter().find(|(c, _)| *c == "sv").expect("locales/sv.toml");
        load("sv", text, None)
    });
    if lang == Lang::SV {
        return sv;
    }
    let all = ALL.get_or_init(|| {
        LOCALES.iter().filter(|(c, _)| *c != "sv").map(|(c, text)| (*c, load(c, text, Some(sv)))).collect()
    });
    all.get(lang.0).unwrap_or(sv)
}

impl Texts {
    /// The text for a key (the Swedish one when this language lacks it); a key missing in
    /// Swedish too shows as itself (and a test refuses it).
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        match self.map.get(key) {
            Some(t) => t,
            None => self.fallback.map(|f| f.get(key)).unwrap_or(key),
        }
    }

    /// Whether there is a text for the key.
    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key) || self.fallback.is_some_and(|f| f.has(key))
    }

    /// A text with `{name}` placeholders filled in, in one pass: what is filled in is never
    /// read as a placeholder (a reason typed as "{when}" stays as typed), and a page's many
    /// dates cost one string each rather than one per placeholder.
    pub fn fill(&self, key: &str, args: &[(&str, &str)]) -> String {
        let text = self.get(key);
        let mut out = String::with_capacity(text.len() + args.iter().map(|(_, v)| v.len()).sum::<usize>());
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let filled = after.find('}').and_then(|close| {
                let name = &after[..close];
                args.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v, close))
            });
            match filled {
                Some((value, close)) => {
                    out.push_str(value);
                    rest = &after[close + 1..];
                }
                // Not one of ours: kept as written.
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The keys this language's own file has.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.map.keys()
    }

    /// The other languages, as (code, "In English"-style link text in that language).
    pub fn others(&self) -> Vec<(&'static str, &'static str)> {
        Lang::all().filter(|l| l.0 != self.lang).map(|l| (l.0, texts(l).get("language.switch"))).collect()
    }

    fn weekday(&self, d: Date) -> &str {
        &self.weekdays[d.weekday().to_monday_zero_offset() as usize]
    }

    fn clock(&self, hour: i8, minute: i8) -> String {
        self.fill("format.time", &[("hh", &format!("{hour:02}")), ("mm", &format!("{minute:02}"))])
    }

    /// "23 nov 2026" / "23 Nov 2026".
    pub fn date(&self, d: &Date) -> String {
        let month = &self.months[d.month() as usize - 1];
        self.fill("format.date", &[("day", &d.day().to_string()), ("month", month), ("year", &d.year().to_string())])
    }

    /// "mån 23 nov 2026 kl. 14.05" / "Mon 23 Nov 2026 14:05", in Swedish local time.
    pub fn datetime(&self, t: &Timestamp) -> String {
        let z = local(*t);
        let d = z.date();
        format!("{} {} {}", self.weekday(d), self.date(&d), self.clock(z.hour(), z.minute()))
    }

    /// Only the time ("kl. 14.05") when `t` is on the same day as `near`, else in full.
    pub fn datetime_near(&self, t: &Timestamp, near: &Timestamp) -> String {
        let (z, n) = (local(*t), local(*near));
        if z.date() != n.date() {
            return self.datetime(t);
        }
        self.clock(z.hour(), z.minute())
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

    /// What a level of the frailty scale means: the region's licensed wording when its
    /// agreement gives one (`[screening] frailty_levels`), else Samverka's neutral wording.
    pub fn frailty_level(&self, agreement: Option<&samverka_domain::agreement::Agreement>, level: u8) -> String {
        let own =
            agreement.and_then(|a| a.frailty_levels.as_ref()).and_then(|l| l.get(usize::from(level).wrapping_sub(1)));
        match own {
            Some(text) => text.clone(),
            None => self.get(&format!("screening.frailty_level.{level}")).to_string(),
        }
    }

    /// ISO form for `<time datetime>` attributes.
    pub fn iso(&self, t: &Timestamp) -> String {
        t.to_string()
    }

    /// "31 500 kr" / "SEK 31,500" from öre.
    pub fn kronor(&self, ore: &i64) -> String {
        let kr = ore / 100;
        let digits = kr.abs().to_string();
        let sep = self.get("format.thousands");
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push_str(sep);
            }
            grouped.push(c);
        }
        let sign = if kr < 0 { "-" } else { "" };
        self.fill("format.kronor", &[("amount", &format!("{sign}{grouped}"))])
    }

    /// A wait in minutes: "4 tim" when whole hours, else "90 min".
    pub fn wait(&self, minutes: u32) -> String {
        if minutes.is_multiple_of(60) {
            self.fill("timeline.hours", &[("n", &(minutes / 60).to_string())])
        } else {
            self.fill("timeline.minutes", &[("n", &minutes.to_string())])
        }
    }

    /// One decimal, with the language's decimal mark: "5,5" / "5.5".
    pub fn decimal(&self, v: f64) -> String {
        format!("{v:.1}").replace('.', self.get("format.decimal"))
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
    fn every_language_has_the_same_keys() {
        let sv: std::collections::BTreeSet<_> = texts(Lang::SV).keys().collect();
        for lang in Lang::all().filter(|l| *l != Lang::SV) {
            let other: std::collections::BTreeSet<_> = texts(lang).keys().collect();
            let only_sv: Vec<_> = sv.difference(&other).collect();
            let only_other: Vec<_> = other.difference(&sv).collect();
            assert!(
                only_sv.is_empty() && only_other.is_empty(),
                "{}: lacks {only_sv:?}; has only {only_other:?}",
                lang.0
            );
        }
    }

    #[test]
    fn every_file_in_locales_is_a_language() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .map(|p| p.file_stem().unwrap().to_str().unwrap().to_string())
            .collect();
        files.sort();
        let mut langs: Vec<String> = Lang::all().map(|l| l.code().to_string()).collect();
        langs.sort();
        assert_eq!(files, langs);
        assert_eq!(Lang::parse("en"), Some(Lang::EN));
        assert_eq!(Lang::parse("xx"), None, "a language without a file is not one");
    }

    #[test]
    fn a_language_takes_its_formats_from_its_file_and_lacking_keys_from_swedish() {
        // As a Finnish file would: its own months, weekdays and patterns, and not every text.
        let file = r#"
            [language]
            switch = "Suomeksi"
            [format]
            months = "tammi helmi maalis huhti touko kesä heinä elo syys loka marras joulu"
            weekdays = "ma ti ke to pe la su"
            date = "{day}. {month}kuuta {year}"
            time = "klo {hh}.{mm}"
            kronor = "{amount} kr"
            thousands = " "
            decimal = ","
            [person]
            title = "Kotiutumiseni"
        "#;
        let fi: &'static Texts = Box::leak(Box::new(load("fi", file, Some(texts(Lang::SV)))));
        let t: Timestamp = "2026-11-23T13:05:00Z".parse().unwrap();
        assert_eq!(fi.datetime(&t), "ma 23. marraskuuta 2026 klo 14.05");
        assert_eq!(fi.kronor(&3_150_000), "31 500 kr");
        assert_eq!(fi.get("person.title"), "Kotiutumiseni");
        assert_eq!(fi.get("person.home"), texts(Lang::SV).get("person.home"), "what it lacks is Swedish");
        assert!(fi.has("person.home"));
    }

    #[test]
    fn placeholders_are_filled_once_and_unknown_ones_kept() {
        let file = r#"
            [format]
            months = "jan feb mar apr maj jun jul aug sep okt nov dec"
            weekdays = "mån tis ons tor fre lör sön"
            [t]
            ended = "Upphörde {when} ({by}): {reason} {x} {oavslutad"
        "#;
        let own = load("sv", file, None);
        // A value that looks like a placeholder is text: it is not filled in again.
        assert_eq!(
            own.fill("t.ended", &[("when", "{reason}"), ("by", "Anna"), ("reason", "{by} flyttade")]),
            "Upphörde {reason} (Anna): {by} flyttade {x} {oavslutad"
        );
        // Placeholders no argument names, and a lone brace, stay as written.
        assert_eq!(own.fill("t.ended", &[]), "Upphörde {when} ({by}): {reason} {x} {oavslutad");
        assert_eq!(own.fill("t.missing", &[("x", "y")]), "t.missing");
    }

    #[test]
    fn a_frailty_level_reads_as_the_regions_licensed_wording_when_its_agreement_has_one() {
        use samverka_domain::agreement::Agreement;
        let law = include_str!("../../../agreements/lagens-reservregel.toml");
        let plain = Agreement::from_toml(law).unwrap();
        let levels: Vec<String> = (1..=9).map(|i| format!("\"Regionens nivå {i}\"")).collect();
        let licensed =
            Agreement::from_toml(&format!("{law}\n[screening]\nfrailty_levels = [{}]\n", levels.join(", "))).unwrap();
        let sv = texts(Lang::SV);
        assert_eq!(sv.frailty_level(Some(&licensed), 6), "Regionens nivå 6");
        assert_eq!(sv.frailty_level(Some(&plain), 6), sv.get("screening.frailty_level.6"));
        assert_eq!(sv.frailty_level(None, 9), sv.get("screening.frailty_level.9"));
        assert!(!sv.get("screening.frailty_level.6").starts_with("screening."), "Samverka's own wording exists");
    }

    #[test]
    fn swedish_formats() {
        let sv = texts(Lang::SV);
        assert_eq!(sv.date(&date(2026, 11, 23)), "23 nov 2026");
        let t: Timestamp = "2026-11-23T13:05:00Z".parse().unwrap();
        assert_eq!(sv.datetime(&t), "mån 23 nov 2026 kl. 14.05");
        assert_eq!(sv.kronor(&3_150_000), "31\u{a0}500\u{a0}kr");
        assert_eq!((sv.decimal(5.54), texts(Lang::EN).decimal(5.54)), ("5,5".to_string(), "5.5".to_string()));
        assert_eq!(texts(Lang::EN).kronor(&3_150_000), "SEK 31,500");
        assert_eq!(texts(Lang::EN).datetime(&t), "Mon 23 Nov 2026 14:05");
        let midnight: Timestamp = "2026-11-24T23:00:00Z".parse().unwrap();
        assert_eq!(sv.due(&midnight), "tis 24 nov 2026, hela dagen");
        assert_eq!(sv.due(&t), "mån 23 nov 2026 kl. 14.05");
        let later: Timestamp = "2026-11-23T15:30:00Z".parse().unwrap();
        assert_eq!(sv.datetime_near(&later, &t), "kl. 16.30");
        assert_eq!(sv.datetime_near(&midnight, &t), "ons 25 nov 2026 kl. 00.00");
    }
}
