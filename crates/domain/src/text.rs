//! Checks shared by every free-text field and every date a user types.

use jiff::ToSpan;
use jiff::civil::Date;

use crate::error::Problem;

/// Longest free text accepted in any field (a long planning note fits; a pasted record does not).
pub const MAX_TEXT_CHARS: usize = 10_000;

/// How far ahead a planned date may lie (estimated discharge, SIP follow-up).
pub const MAX_YEARS_AHEAD: i16 = 2;

/// A free text: required or not, at most [`MAX_TEXT_CHARS`], no control characters other than
/// line breaks and tabs.
pub fn check_text(field: &str, value: &str, required: bool) -> Result<(), Problem> {
    if required && value.trim().is_empty() {
        return Err(Problem::invalid_field(field, "required", "Fältet måste fyllas i.", "This field is required."));
    }
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(Problem::invalid_field(
            field,
            "text_too_long",
            format!("Texten är för lång. Korta den till högst {MAX_TEXT_CHARS} tecken."),
            format!("The text is too long; at most {MAX_TEXT_CHARS} characters."),
        ));
    }
    if value.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(Problem::invalid_field(
            field,
            "invalid_characters",
            "Texten innehåller osynliga styrtecken. Skriv om texten eller klistra in den som ren text.",
            "The text contains control characters.",
        ));
    }
    Ok(())
}

/// A planned date: not before `earliest` and at most [`MAX_YEARS_AHEAD`] years after `today`.
pub fn check_planned_date(field: &str, date: Date, earliest: Date, today: Date) -> Result<(), Problem> {
    let latest = today.checked_add((MAX_YEARS_AHEAD as i64).years()).unwrap_or(today);
    if date > latest {
        return Err(Problem::invalid_field(
            field,
            "date_too_far_ahead",
            format!("Datumet ligger för långt fram. Välj ett datum senast {latest}."),
            format!("The date is too far ahead; at most {latest}."),
        ));
    }
    if date < earliest {
        return Err(Problem::invalid_field(
            field,
            "date_too_early",
            format!("Datumet kan inte ligga före {earliest}."),
            format!("The date cannot be before {earliest}."),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn line_breaks_pass_but_control_characters_do_not() {
        assert!(check_text("note", "Rad ett\nRad två\tmed tabb", true).is_ok());
        assert_eq!(check_text("note", "Hej\u{0}", false).unwrap_err().code, "invalid_characters");
        assert_eq!(check_text("note", "\u{1b}[31m", false).unwrap_err().code, "invalid_characters");
        assert_eq!(check_text("note", "   ", true).unwrap_err().code, "required");
        assert_eq!(check_text("note", &"å".repeat(MAX_TEXT_CHARS + 1), false).unwrap_err().code, "text_too_long");
        assert!(check_text("note", &"å".repeat(MAX_TEXT_CHARS), false).is_ok());
    }

    #[test]
    fn planned_dates_stay_within_two_years() {
        let today = date(2026, 11, 23);
        assert!(check_planned_date("d", date(2028, 11, 23), today, today).is_ok());
        assert_eq!(check_planned_date("d", date(2028, 11, 24), today, today).unwrap_err().code, "date_too_far_ahead");
        assert_eq!(check_planned_date("d", date(2026, 11, 22), today, today).unwrap_err().code, "date_too_early");
    }
}
