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
