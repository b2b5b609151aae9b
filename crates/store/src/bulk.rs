//! Loading many cases at once, for the national demo data set: each case's whole history with
//! the same projections (and follow-up sums) a command writes, many cases to a transaction and
//! many rows to a statement.

use std::collections::{BTreeSet, HashMap};

use jiff::Timestamp;
use samverka_domain::case::{Case, RecordedEvent};
use samverka_domain::followup::Totals;
use samverka_domain::patient::Patient;

use crate::access_log::AccessEntry;
use crate::cases::Projection;
use crate::followup::{ACK_UPSERT_TAIL, MONTH_UPSERT_TAIL, StoredFacts, month_deltas};
use crate::sql::enum_str;
use crate::sql::micros;
use crate::{Result, Store, StoreError, on_db};

/// A case with its history, the patient if new, and the access-log entries of its reads.
pub struct ImportCase {
    pub patient: Option<Patient>,
    pub events: Vec<RecordedEvent>,
    pub agreement_id: String,
    pub access: Vec<AccessEntry>,
}

/// Inserts rows in statements of as many rows as the databases' bind limits allow; expanded
/// once per driver. `$tail` follows the VALUES (an ON CONFLICT clause, or "").
macro_rules! insert_rows {
    ($tx:ident, $head:expr, $columns:expr, $tail:expr, $rows:expr, |$b:ident, $r:ident| $push:block) => {{
        let per = (30_000 / $columns).max(1);
        for chunk in $rows.chunks(per) {
            let mut qb = sqlx::QueryBuilder::new($head);
            qb.push_values(chunk, |mut $b, $r| $push);
            qb.push($tail);
            qb.build().execute(&mut *$tx).await?;
        }
    }};
}

impl Store {
    /// Writes a batch of new cases in one transaction.
    pub async fn import_cases(&self, batch: &[ImportCase], now: Timestamp) -> Result<()> {
        let hospitals: HashMap<uuid::Uuid, String> =
            self.ward_capacities().await?.into_iter().filter_map(|w| w.hospital.map(|h| (w.unit_id, h))).collect();
        let mut patients = vec![];
        let mut cases = vec![];
        let mut events = vec![];
        let mut parties = vec![];
        let mut deadlines = vec![];
        let mut inbox = vec![];
        let mut messages = vec![];
        let mut consents = vec![];
        let mut followup = vec![];
        let mut months: HashMap<(&'static str, String, i32, String), [i64; Totals::COUNT]> = HashMap::new();
        let mut acks: HashMap<(String, i32), [i64; 4]> = HashMap::new();
        for c in batch {
            let mut case = Case::from_events(&c.events)?;
            let agreement = self
                .agreements()
                .get(&c.agreement_id)
                .ok_or_else(|| StoreError::corrupt(format!("unknown agreement {}", c.agreement_id)))?;
            let touched: BTreeSet<_> = case.messages.iter().map(|m| m.message.id).collect();
            let p = Projection::of(&mut case, &agreement, &touched, now)?;
            let id = case.id.to_string();
            if let Some(patient) = &c.patient {
                let data = serde_json::to_string(patient).map_err(StoreError::corrupt)?;
                patients.push((patient.clone(), c.events[0].clone(), data));
            }
            for e in &c.events {
                let data = serde_json::to_string(e).map_err(StoreError::corrupt)?;
                events.push((
                    id.clone(),
                    e.seq as i64,
                    micros(e.at),
                    e.actor.user.id.to_string(),
                    e.actor.unit.id.to_string(),
                    e.event.name(),
                    data,
                ));
            }
            for (unit, since) in &p.parties {
                parties.push((id.clone(), unit.clone(), *since));
            }
            for d in &p.deadlines {
                deadlines.push((
                    id.clone(),
                    enum_str(&d.kind),
                    d.owner.map(|o| o.to_string()),
                    micros(d.due),
                    d.met_at.map(micros),
                    d.estimated,
                ));
            }
            for i in p.inbox.iter() {
                inbox.push((
                    id.clone(),
                    i.unit_id.clone(),
                    i.message_id.clone(),
                    i.kind.clone(),
                    i.sender.clone(),
                    i.sent_at,
                    i.opened_at,
                    i.acknowledged_at,
                    i.mis_sent,
                    i.case_open,
                ));
            }
            for m in p.messages {
                messages.push((id.clone(), m));
            }
            for consent in &p.consents {
                consents.push((consent.clone(), id.clone()));
            }
            let stored = p
                .followup
                .as_ref()
                .map(|f| StoredFacts { facts: f.clone(), hospital: f.ward.and_then(|w| hospitals.get(&w).cloned()) });
            if let Some(s) = &stored {
                let mut deltas = vec![];
                month_deltas(s, 1, &mut deltas);
                for d in deltas {
                    let e = months.entry((d.dim, d.key, d.month, d.care_type)).or_default();
                    for (x, v) in e.iter_mut().zip(d.values) {
                        *x += v;
                    }
                }
            }
            for (k, v) in &p.acks {
                let (unit, month) = k.split_once('/').ok_or_else(|| StoreError::corrupt("acknowledgement key"))?;
                let e = acks.entry((unit.to_string(), month.parse().map_err(StoreError::corrupt)?)).or_default();
                for (x, y) in e.iter_mut().zip(v) {
                    *x += y;
                }
            }
            let facts_json = stored.as_ref().map(serde_json::to_string).transpose().map_err(StoreError::corrupt)?;
            let acks_json = serde_json::to_string(&p.acks).map_err(StoreError::corrupt)?;
            followup.push((id.clone(), facts_json, acks_json));
            cases.push((
                id,
                case.patient_id.to_string(),
                c.agreement_id.clone(),
                case.kommun.as_str().to_string(),
                p.ward_id.clone(),
                p.phase,
                case.version as i64,
                micros(case.admitted_at),
                p.first_ready_at,
                p.discharged_at,
                micros(case.updated_at),
                p.state,
            ));
        }
        let access: Vec<&AccessEntry> = batch.iter().flat_map(|c| &c.access).collect();
        let months: Vec<_> = months.into_iter().collect();
        let acks: Vec<_> = acks.into_iter().collect();
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            insert_rows!(
                tx,
                "INSERT INTO patients (id, id_kind, identifier, given_name, family_name, kommunkod, listed_unit_id, protection, street, postal_code, city, version, created_at, updated_at) ",
                14,
                "",
                patients,
                |b, r| {
                    let (p, first, _) = r;
                    b.push_bind(p.id.to_string())
                        .push_bind(p.identifier.kind())
                        .push_bind(p.identifier.value().to_string())
                        .push_bind(p.given_name.clone())
                        .push_bind(p.family_name.clone())
                        .push_bind(p.kommun.as_str().to_string())
                        .push_bind(p.listed_unit.map(|u| u.to_string()))
                        .push_bind(enum_str(&p.protection))
                        .push_bind(p.address.as_ref().map(|a| a.street.clone()))
                        .push_bind(p.address.as_ref().map(|a| a.postal_code.clone()))
                        .push_bind(p.address.as_ref().map(|a| a.city.clone()))
                        .push_bind(1_i64)
                        .push_bind(micros(first.at))
                        .push_bind(micros(first.at));
                }
            );
            insert_rows!(
                tx,
                "INSERT INTO patient_revisions (patient_id, version, at, user_id, unit_id, data) ",
                6,
                "",
                patients,
                |b, r| {
                    let (p, first, data) = r;
                    b.push_bind(p.id.to_string())
                        .push_bind(1_i64)
                        .push_bind(micros(first.at))
                        .push_bind(first.actor.user.id.to_string())
                        .push_bind(first.actor.unit.id.to_string())
                        .push_bind(data.clone());
                }
            );
            insert_rows!(
                tx,
                "INSERT INTO cases (id, patient_id, agreement_id, kommunkod, ward_id, phase, version, admitted_at, first_ready_at, discharged_at, updated_at, state) ",
                12,
                "",
                cases,
                |b, r| {
                    b.push_bind(r.0.clone())
                        .push_bind(r.1.clone())
                        .push_bind(r.2.clone())
                        .push_bind(r.3.clone())
                        .push_bind(r.4.clone())
                        .push_bind(r.5)
                        .push_bind(r.6)
                        .push_bind(r.7)
                        .push_bind(r.8)
                        .push_bind(r.9)
                        .push_bind(r.10)
                        .push_bind(r.11.clone());
                }
            );
            insert_rows!(
                tx,
                "INSERT INTO case_events (case_id, seq, at, user_id, unit_id, kind, data) ",
                7,
                "",
                events,
                |b, r| {
                    b.push_bind(r.0.clone())
                        .push_bind(r.1)
                        .push_bind(r.2)
                        .push_bind(r.3.clone())
                        .push_bind(r.4.clone())
                        .push_bind(r.5)
                        .push_bind(r.6.clone());
                }
            );
            insert_rows!(tx, "INSERT INTO case_parties (case_id, unit_id, since) ", 3, "", parties, |b, r| {
                b.push_bind(r.0.clone()).push_bind(r.1.clone()).push_bind(r.2);
            });
            insert_rows!(
                tx,
                "INSERT INTO case_deadlines (case_id, kind, owner_unit_id, due_at, met_at, estimated) ",
                6,
                "",
                deadlines,
                |b, r| {
                    b.push_bind(r.0.clone())
                        .push_bind(r.1.clone())
                        .push_bind(r.2.clone())
                        .push_bind(r.3)
                        .push_bind(r.4)
                        .push_bind(r.5);
                }
            );
            insert_rows!(
                tx,
                "INSERT INTO inbox (case_id, unit_id, message_id, kind, sender_unit_id, sent_at, opened_at, acknowledged_at, \
                 mis_sent, case_open) ",
                10,
                "",
                inbox,
                |b, r| {
                    b.push_bind(r.0.clone())
                        .push_bind(r.1.clone())
                        .push_bind(r.2.clone())
                        .push_bind(r.3.clone())
                        .push_bind(r.4.clone())
                        .push_bind(r.5)
                        .push_bind(r.6)
                        .push_bind(r.7)
                        .push_bind(r.8)
                        .push_bind(r.9);
                }
            );
            insert_rows!(tx, "INSERT INTO case_messages (case_id, message_id, ord, data) ", 4, "", messages, |b, r| {
                let (case_id, m) = r;
                b.push_bind(case_id.clone()).push_bind(m.message_id.clone()).push_bind(m.ord).push_bind(m.data.clone());
            });
            insert_rows!(tx, "INSERT INTO case_consents (consent_id, case_id) ", 2, "", consents, |b, r| {
                b.push_bind(r.0.clone()).push_bind(r.1.clone());
            });
            insert_rows!(tx, "INSERT INTO case_followup (case_id, facts, acks) ", 3, "", followup, |b, r| {
                b.push_bind(r.0.clone()).push_bind(r.1.clone()).push_bind(r.2.clone());
            });
            insert_rows!(
                tx,
                // The sums' columns as the domain names them, so a new count cannot be left out.
                format!(
                    "INSERT INTO followup_months (dim, key, month, care_type, {}) ",
                    samverka_domain::followup::Totals::COLUMNS.join(", ")
                ),
                4 + samverka_domain::followup::Totals::COUNT,
                MONTH_UPSERT_TAIL,
                months,
                |b, r| {
                    let ((dim, key, month, care), v) = r;
                    b.push_bind(*dim).push_bind(key.clone()).push_bind(*month).push_bind(care.clone());
                    for x in v {
                        b.push_bind(*x);
                    }
                }
            );
            insert_rows!(
                tx,
                "INSERT INTO ack_months (unit_id, month, notices, acknowledged, minutes, within_day) ",
                6,
                ACK_UPSERT_TAIL,
                acks,
                |b, r| {
                    let ((unit, month), v) = r;
                    b.push_bind(unit.clone())
                        .push_bind(*month)
                        .push_bind(v[0])
                        .push_bind(v[1])
                        .push_bind(v[2])
                        .push_bind(v[3]);
                }
            );
            insert_rows!(
                tx,
                "INSERT INTO access_log (at, user_id, user_name, assignment_id, role, unit_id, unit_name, organisation_id, patient_id, case_id, action, outcome, emergency, reason, protected_identity, client_address) ",
                16,
                "",
                access,
                |b, e| {
                    b.push_bind(micros(e.at))
                        .push_bind(e.user_id.to_string())
                        .push_bind(e.user_name.clone())
                        .push_bind(e.assignment_id.map(|a| a.to_string()))
                        .push_bind(e.role.as_ref().map(enum_str))
                        .push_bind(e.unit_id.to_string())
                        .push_bind(e.unit_name.clone())
                        .push_bind(e.organisation_id.to_string())
                        .push_bind(e.patient_id.map(|p| p.to_string()))
                        .push_bind(e.case_id.map(|c| c.to_string()))
                        .push_bind(e.action.clone())
                        .push_bind(enum_str(&e.outcome))
                        .push_bind(e.emergency)
                        .push_bind(e.reason.clone())
                        .push_bind(e.protected_identity)
                        .push_bind(e.client_address.clone());
                }
            );
            tx.commit().await?;
        });
        Ok(())
    }
}
