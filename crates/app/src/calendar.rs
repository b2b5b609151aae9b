//! Forum meetings as iCalendar (RFC 5545, built with the `icalendar` crate): one meeting to
//! download, or a forum's planned and coming meetings for a calendar subscription. Each
//! meeting keeps its UID, so a calendar updates it (or removes it, when cancelled) in place.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus};
use jiff::Timestamp;
use samverka_domain::calendar::local_date;
use samverka_domain::forum::MeetingStatus;
use samverka_store::{ForumRecord, MeetingRecord};

fn utc(t: Timestamp) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(t.as_microsecond()).unwrap_or_default()
}

/// The forum's `meetings`, and the schedule's `coming` occurrences not yet planned (as
/// tentative), with links to the meetings' pages under `base`.
pub fn meetings_calendar(
    forum: &ForumRecord,
    meetings: &[MeetingRecord],
    coming: &[(Timestamp, Timestamp)],
    base: &str,
) -> Calendar {
    let mut cal = Calendar::new();
    cal.name(&forum.spec.name).description(&forum.spec.purpose).timezone("Europe/Stockholm");
    let event = |uid: String, start: Timestamp, end: Timestamp, description: String, url: &str| {
        let mut e = Event::new();
        e.uid(&uid).summary(&forum.spec.name).starts(utc(start)).ends(utc(end)).description(&description).url(url);
        if let Some(link) = &forum.spec.video_link {
            e.location(link);
        }
        e
    };
    for m in meetings {
        let url = format!("{base}/moten/{}", m.id);
        let mut e = event(
            format!("{}@samverka", m.id),
            m.starts_at,
            m.ends_at,
            format!("{}\n\n{url}", forum.spec.purpose),
            &url,
        );
        e.status(if m.status == MeetingStatus::Cancelled { EventStatus::Cancelled } else { EventStatus::Confirmed });
        cal.push(e.done());
    }
    for (start, end) in coming {
        if meetings.iter().any(|m| m.starts_at == *start) {
            continue;
        }
        let url = format!("{base}/forum/{}", forum.id);
        let uid = format!("{}-{}@samverka", forum.id, local_date(*start));
        let mut e = event(uid, *start, *end, format!("{}\n\n{url}", forum.spec.purpose), &url);
        e.status(EventStatus::Tentative);
        cal.push(e.done());
    }
    cal.done()
}

/// The calendar as a `text/calendar` answer named `filename`.
pub fn ics_response(cal: Calendar, filename: &str) -> Response {
    let mut res = ([(header::CONTENT_TYPE, "text/calendar; charset=utf-8")], cal.to_string()).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{filename}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A SIP meeting the person is called to, for their own calendar: one event, an hour long,
/// whose UID follows the case so a moved meeting replaces the old one.
pub fn sip_meeting_calendar(
    case: uuid::Uuid,
    m: &samverka_domain::person::Meeting,
    summary: &str,
    description: &str,
) -> Calendar {
    let mut cal = Calendar::new();
    cal.name(summary).timezone("Europe/Stockholm");
    let mut e = Event::new();
    e.uid(&format!("{case}-sip@samverka"))
        .summary(summary)
        .starts(utc(m.at))
        .ends(utc(m.at + jiff::SignedDuration::from_hours(1)))
        .location(&m.place)
        .description(description);
    e.status(EventStatus::Confirmed);
    cal.push(e.done());
    cal.done()
}
