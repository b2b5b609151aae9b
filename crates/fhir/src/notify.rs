//! Delivers FHIR Subscription notifications (rest-hook): reads each subscription's new inbox
//! entries into durable deliveries, POSTs each as a Communication to the client's endpoint,
//! signed, and retries with growing pauses until it is accepted or given up.
//!
//! Each POST carries `X-Samverka-Signature: sha256=<hex HMAC-SHA256 of the body>` with the
//! subscription's secret, and `X-Samverka-Delivery: <id>` (the same on every retry of one
//! notification, so a receiver can drop duplicates). Every delivery is access-logged as the
//! client reading the message.

use std::sync::Arc;
use std::time::Duration;

use hmac::{KeyInit, Mac};
use samverka_store::{Audit, Delivery, Job, Outcome, Subscription};

use crate::resources;
use samverka_app::AppState;

/// Attempts before a notification is given up (with pauses of 2 s, 4 s … capped at an hour:
/// about a day in all).
pub const MAX_ATTEMPTS: i32 = 30;
const MAX_PAUSE_SECONDS: i64 = 3600;
const TICK: Duration = Duration::from_secs(2);

pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    let out = mac.finalize().into_bytes();
    format!("sha256={}", out.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// The pause before attempt `n + 1` after `n` failures.
pub fn pause_seconds(failures: i32) -> i64 {
    2i64.saturating_pow(failures.clamp(1, 20) as u32).min(MAX_PAUSE_SECONDS)
}

pub struct Notifier {
    st: AppState,
    // The same HTTP client (and TLS set-up) the OpenID Connect login uses.
    http: openidconnect::reqwest::Client,
}

impl Notifier {
    pub fn new(st: AppState) -> Arc<Notifier> {
        let http = openidconnect::reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        Arc::new(Notifier { st, http })
    }

    /// Runs until the process ends: on every change to a case (here or, told, on another
    /// process), and every couple of seconds; one process at a time, so that nothing is
    /// delivered twice.
    pub async fn run(self: Arc<Self>) {
        loop {
            tokio::select! {
                _ = self.st.wake.notified() => {}
                _ = tokio::time::sleep(TICK) => {}
            }
            let round = self.st.store.round(Job::Subscriptions, Duration::ZERO, jiff::Timestamp::now(), self.once());
            if let Err(e) = round.await {
                tracing::warn!(error = %e, "subscription notifications: will try again");
            }
        }
    }

    /// One round: new deliveries, then whatever is due.
    pub async fn once(&self) -> Result<(), samverka_store::StoreError> {
        let store = &self.st.store;
        let now = self.st.clock.now();
        for s in store.active_subscriptions().await? {
            store.enqueue_deliveries(&s, now).await?;
        }
        for d in store.due_deliveries(now, 100).await? {
            let Some(s) = store.subscription(d.subscription_id).await? else { continue };
            self.deliver(&s, &d).await?;
        }
        Ok(())
    }

    async fn deliver(&self, s: &Subscription, d: &Delivery) -> Result<(), samverka_store::StoreError> {
        let store = &self.st.store;
        let gone = || format!("message {} of case {} not found", d.message_id, d.case_id);
        let Some(record) = store.case(d.case_id).await? else {
            return store.delivery_failed(d.id, &gone(), None, self.st.clock.now()).await;
        };
        let Some(m) = record.case.message(d.message_id) else {
            return store.delivery_failed(d.id, &gone(), None, self.st.clock.now()).await;
        };
        // A client that has been ended (its account, assignment or credentials) is told nothing more.
        let client = store.api_client(s.client_id).await?.filter(|c| c.active);
        let actor = match client {
            Some(c) => crate::auth::client_actor(store, &c).await?,
            None => None,
        };
        let Some((actor, assignment_id)) = actor else {
            let why = "Klienten är avslutad av administratören; inga fler meddelanden skickas.";
            return store.set_subscription_status(s.id, "off", Some(why)).await;
        };
        let body = resources::communication(&record.case, m, m.message.body.kind().label_sv()).to_string();
        let mut req = self
            .http
            .post(&s.endpoint)
            .header("content-type", "application/fhir+json")
            .header("x-samverka-signature", signature(&s.secret, body.as_bytes()))
            .header("x-samverka-delivery", d.id.to_string())
            .body(body);
        for h in &s.headers {
            if let Some((k, v)) = h.split_once(':') {
                req = req.header(k.trim(), v.trim());
            }
        }
        let result = match req.send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("the endpoint answered {}", r.status())),
            Err(e) => Err(format!("the endpoint could not be reached: {e}")),
        };
        let now = self.st.clock.now();
        match result {
            Ok(()) => {
                store.delivery_done(d.id, now).await?;
                let audit =
                    Audit { actor, assignment_id: Some(assignment_id), client_address: Some(s.endpoint.clone()) };
                self.log(&audit, &record.case, now).await?;
            }
            Err(e) if d.attempts + 1 >= MAX_ATTEMPTS => {
                store.delivery_failed(d.id, &e, None, now).await?;
                let why =
                    format!("Meddelanden kunde inte levereras till {} efter {MAX_ATTEMPTS} försök: {e}", s.endpoint);
                store.set_subscription_status(s.id, "error", Some(&why)).await?;
            }
            Err(e) => store.delivery_failed(d.id, &e, Some(pause_seconds(d.attempts + 1)), now).await?,
        }
        Ok(())
    }

    /// A notification hands patient data to the client: logged as the client reading it.
    async fn log(
        &self,
        audit: &Audit,
        case: &samverka_domain::case::Case,
        now: jiff::Timestamp,
    ) -> Result<(), samverka_store::StoreError> {
        let store = &self.st.store;
        let protected = store.patient(case.patient_id).await?.is_some_and(|p| p.protection.is_protected());
        let entry = audit.entry(
            "fhir.subscription.notify",
            now,
            Some(case.patient_id),
            Some(case.id),
            Outcome::Allowed,
            None,
            protected,
        );
        store.log_access(&entry).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_in_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn pauses_grow_and_are_capped() {
        assert_eq!((pause_seconds(1), pause_seconds(2), pause_seconds(5)), (2, 4, 32));
        assert_eq!(pause_seconds(29), MAX_PAUSE_SECONDS);
    }
}
