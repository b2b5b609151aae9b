//! Black-box tests of the HTTP API: each starts the real application on a random port.

mod bad_input;
mod helpers;
mod scenario;
