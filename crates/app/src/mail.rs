//! Sending the e-mail outbox over SMTP (lettre): every few seconds the due mail goes out; a
//! failure is tried again later (1, 2, 4 … up to 60 minutes apart, ten times), an address that
//! cannot be an address is given up at once. Mail carries no patient data.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use samverka_store::StoreError;

use crate::config::{MailSecurity, MailSettings};
use crate::state::AppState;

/// Attempts before a mail is given up.
const MAX_ATTEMPTS: u32 = 10;
const TICK: Duration = Duration::from_secs(5);

fn transport(s: &MailSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let builder = match s.security {
        MailSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
        MailSecurity::StartTls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host).map_err(|e| e.to_string())?
        }
        MailSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host).map_err(|e| e.to_string())?,
    };
    let mut builder = builder.port(s.port).timeout(Some(Duration::from_secs(20)));
    if let (Some(u), Some(p)) = (&s.username, &s.password) {
        builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
    }
    Ok(builder.build())
}

/// When to try again after `attempts` failures, or none to give up.
fn next_attempt(attempts: u32, now: Timestamp) -> Option<Timestamp> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let minutes = 2i64.saturating_pow(attempts.saturating_sub(1)).min(60);
    now.checked_add(SignedDuration::from_mins(minutes)).ok()
}

/// Sends what is due now; returns how many went out.
pub async fn deliver_due(st: &AppState, s: &MailSettings) -> Result<usize, StoreError> {
    let now = st.clock.now();
    let due = st.store.due_mail(now, 50).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let transport = transport(s);
    let mut sent = 0;
    for q in due {
        let m = &q.mail;
        let message = (|| -> Result<Message, String> {
            Message::builder()
                .from(s.from.parse().map_err(|e| format!("avsändaren {}: {e}", s.from))?)
                .to(m.to.parse().map_err(|e| format!("mottagaren {}: {e}", m.to))?)
                .subject(m.subject.clone())
                .header(ContentType::TEXT_PLAIN)
                .body(m.body.clone())
                .map_err(|e| e.to_string())
        })();
        let message = match message {
            Ok(msg) => msg,
            Err(e) => {
                // An address that cannot be an address will not become one: given up now.
                tracing::warn!(mail = %m.id, error = %e, "mail given up");
                st.store.mail_failed(m.id, &e, None).await?;
                continue;
            }
        };
        let result = match &transport {
            Ok(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        };
        match result {
            Ok(()) => {
                st.store.mail_sent(m.id, st.clock.now()).await?;
                sent += 1;
            }
            Err(e) => {
                let next = next_attempt(q.attempts + 1, st.clock.now());
                tracing::warn!(mail = %m.id, error = %e, retry = next.is_some(), "mail not sent");
                st.store.mail_failed(m.id, &e, next).await?;
            }
        }
    }
    Ok(sent)
}

/// Sends the outbox for as long as the server runs, from one process at a time (so that no
/// mail goes twice).
pub async fn run(st: AppState, s: MailSettings) {
    crate::cluster::repeat(st, samverka_store::Job::Mail, Duration::ZERO, TICK, move |st| {
        let s = s.clone();
        async move { deliver_due(&st, &s).await.map(drop) }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_retried_further_apart_and_then_given_up() {
        let now: Timestamp = "2026-11-27T15:00:00Z".parse().unwrap();
        let gap = |n| next_attempt(n, now).map(|t| t.duration_since(now).as_mins());
        assert_eq!([gap(1), gap(2), gap(3), gap(7), gap(9)], [Some(1), Some(2), Some(4), Some(60), Some(60)]);
        assert_eq!(gap(MAX_ATTEMPTS), None);
    }
}
