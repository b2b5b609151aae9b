//! The escalation sweep: once a minute (and when a test asks), every unit's rule is applied
//! to what it has yet to acknowledge. An escalation is first an event on the case (written
//! by Samverka as the system role, acting for the unit that did not answer), then a row in the
//! list of escalations; a crash between the two is mended by the next sweep, since the case
//! refuses to escalate the same message twice. Where the server sends e-mail and the receiving
//! unit has a functional mailbox, the mail is queued with the escalation's row.

use std::time::Duration;

use samverka_domain::access::Role;
use samverka_domain::actor::{Actor, UserRef};
use samverka_domain::case::Command;
use samverka_domain::escalation::{Level, due};
use samverka_store::{Audit, Job, Mail, StoreError, reference_unit_ref};
use uuid::Uuid;

use crate::state::AppState;
use crate::texts::{Lang, texts};

/// The account name escalations are written under.
pub const ESCALATION_USER_ID: Uuid = Uuid::from_u128(0x5a3e_7e00_0000_4000_8000_0000_0000_0e5c);

/// How often the sweep runs.
const TICK: Duration = Duration::from_secs(60);
/// How often a process asks whether the sweep is its to do: when the process doing it dies,
/// another takes over within this long.
const POLL: Duration = Duration::from_secs(10);

/// Applies every rule once; returns how many escalations were made.
pub async fn sweep(st: &AppState) -> Result<usize, StoreError> {
    let now = st.clock.now();
    let rules = st.store.escalation_rules().await?;
    if rules.is_empty() {
        return Ok(0);
    }
    let units = st.store.units().await?;
    let unit = |id: Uuid| units.iter().find(|u| u.id == id).map(reference_unit_ref);
    let mut made = 0;
    for rule in &rules {
        let Some(from) = unit(rule.unit) else { continue };
        for waiting in st.store.waiting_messages(rule.unit, rule.backup_unit).await? {
            for d in due(rule, &waiting, now) {
                let Some(to) = unit(d.to_unit) else { continue };
                let audit = Audit {
                    actor: Actor {
                        user: UserRef { id: ESCALATION_USER_ID, name: "Samverka (eskalering)".into() },
                        unit: from.clone(),
                        role: Role::System,
                    },
                    assignment_id: None,
                    client_address: None,
                };
                let cmd = Command::Escalate {
                    message_id: d.message_id,
                    from_unit: d.from_unit,
                    to,
                    level: d.level,
                    after_minutes: d.after_minutes,
                };
                let (record, events) = st.store.execute(d.case_id, &audit, cmd, now).await?;
                let mailbox =
                    units.iter().find(|u| u.id == d.to_unit).and_then(|u| u.address.functional_mailbox.clone());
                let mail = match (&st.config.mail, mailbox) {
                    (Some(_), Some(to)) if !to.trim().is_empty() => {
                        let phone = units.iter().find(|u| u.id == d.from_unit).and_then(|u| u.address.phone.clone());
                        Some(mail_of(&record.case, &d, &from.name, phone.as_deref(), to.trim()))
                    }
                    _ => None,
                };
                st.store
                    .record_escalation(
                        d.case_id,
                        d.message_id,
                        d.from_unit,
                        d.to_unit,
                        d.level,
                        d.after_minutes,
                        mail.as_ref(),
                        now,
                    )
                    .await?;
                if !events.is_empty() {
                    made += 1;
                    let mut units: Vec<Uuid> = record.case.parties.iter().map(|p| p.unit.id).collect();
                    units.push(d.to_unit);
                    st.changed_for(d.case_id, units);
                    tracing::info!(case = %d.case_id, from = %d.from_unit, to = %d.to_unit, level = ?d.level, "message escalated");
                }
            }
        }
    }
    Ok(made)
}

/// The e-mail to the receiving unit's functional mailbox: what waits and from whom, never the
/// patient.
fn mail_of(
    case: &samverka_domain::case::Case,
    d: &samverka_domain::escalation::Due,
    from_name: &str,
    from_phone: Option<&str>,
    to: &str,
) -> Mail {
    let t = texts(Lang::SV);
    let m = case.message(d.message_id);
    let kind = m.map(|m| t.get(&format!("message.{}", m.message.body.kind().as_str())).to_string()).unwrap_or_default();
    let sender = m.map(|m| m.message.sender.name.clone()).unwrap_or_default();
    let sent = m.map(|m| t.datetime(&m.sent.at)).unwrap_or_default();
    let what = t.fill(
        "escalation.mail_what",
        &[
            ("unit", from_name),
            ("kind", &kind),
            ("sender", &sender),
            ("sent", &sent),
            ("wait", &t.wait(d.after_minutes)),
        ],
    );
    let then = match d.level {
        Level::Backup => t.get("escalation.mail_backup").to_string(),
        Level::Leader => t.fill("escalation.mail_leader", &[("unit", from_name), ("phone", from_phone.unwrap_or("–"))]),
    };
    Mail {
        id: Uuid::now_v7(),
        to: to.to_string(),
        subject: t.fill("escalation.mail_subject", &[("kind", &kind), ("unit", from_name)]),
        body: format!("{what}\n\n{then}\n\n{}\n", t.get("escalation.mail_footer")),
    }
}

/// Runs the sweep every minute for as long as the server runs, on one process at a time.
pub async fn run(st: AppState) {
    crate::cluster::repeat(st, Job::Escalation, TICK, POLL, |st| async move { sweep(&st).await.map(drop) }).await
}
