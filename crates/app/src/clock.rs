//! Where "now" comes from. The domain never reads the clock; the HTTP layer asks this.

use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock tests set and move by hand, so deadlines can be checked at exact instants.
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn new(at: Timestamp) -> Self {
        ManualClock(Mutex::new(at))
    }
    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap() = at;
    }
    pub fn advance(&self, by: SignedDuration) {
        let mut t = self.0.lock().unwrap();
        *t = t.checked_add(by).expect("time in range");
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}

/// The demo's clock: the real time, moved forward by hand to show what happens later (a
/// deadline passing, a message escalating). Only `serve --demo` on demo data uses it.
#[derive(Default)]
pub struct DemoClock(Mutex<SignedDuration>);

impl DemoClock {
    pub fn advance(&self, by: SignedDuration) {
        let mut offset = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *offset = offset.checked_add(by).unwrap_or(*offset);
    }

    pub fn offset(&self) -> SignedDuration {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Clock for DemoClock {
    fn now(&self) -> Timestamp {
        let t = Timestamp::now();
        t.checked_add(self.offset()).unwrap_or(t)
    }
}
