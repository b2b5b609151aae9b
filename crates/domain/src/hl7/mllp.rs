//! MLLP framing (HL7's Minimal Lower Layer Protocol): every message travels as
//! `<VT> message <FS><CR>` over TCP. This is the byte-level part only, so it can be fuzzed and
//! tested without a socket.
//!
//! Written here rather than taken from a crate: the one codec on crates.io has no limit on a
//! frame's size and rescans the whole buffer on every read.

/// Start block (vertical tab).
pub const START: u8 = 0x0B;
/// End block (file separator), followed by a carriage return.
pub const END: [u8; 2] = [0x1C, 0x0D];

/// What the framer found in the bytes received so far.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A whole message (without the framing bytes).
    Message(Vec<u8>),
    /// A frame grew past the limit; the sender must be told and the connection closed.
    TooLarge,
}

/// Collects bytes from a connection and hands out whole frames.
#[derive(Debug)]
pub struct Framer {
    buf: Vec<u8>,
    max: usize,
    /// Where the search for the end block continues (so a large frame is scanned once).
    scanned: usize,
}

impl Framer {
    pub fn new(max_message_bytes: usize) -> Self {
        Framer { buf: Vec::new(), max: max_message_bytes, scanned: 0 }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next frame, if one is complete. Bytes before a start block (noise, keep-alive
    /// newlines) are dropped.
    pub fn next_frame(&mut self) -> Option<Frame> {
        let Some(start) = self.buf.iter().position(|&b| b == START) else {
            self.buf.clear();
            self.scanned = 0;
            return None;
        };
        if start > 0 {
            self.buf.drain(..start);
            self.scanned = 0;
        }
        let from = self.scanned.max(1);
        match self.buf[from..].windows(2).position(|w| w == END) {
            Some(i) => {
                let end = from + i;
                let message = self.buf[1..end].to_vec();
                self.buf.drain(..end + 2);
                self.scanned = 0;
                Some(Frame::Message(message))
            }
            None if self.buf.len() > self.max + 3 => {
                self.buf.clear();
                self.scanned = 0;
                Some(Frame::TooLarge)
            }
            None => {
                // The last byte may be the first half of the end block.
                self.scanned = self.buf.len().saturating_sub(1).max(1);
                None
            }
        }
    }

    /// Bytes held that do not yet form a frame.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

/// Wraps a message in the MLLP envelope.
pub fn frame(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 3);
    out.push(START);
    out.extend_from_slice(message);
    out.extend_from_slice(&END);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_anywhere_are_put_together() {
        let wire = [frame(b"MSH|one"), frame(b"MSH|two")].concat();
        for cut in 0..wire.len() {
            let mut f = Framer::new(100);
            let mut got = vec![];
            f.push(&wire[..cut]);
            while let Some(x) = f.next_frame() {
                got.push(x);
            }
            f.push(&wire[cut..]);
            while let Some(x) = f.next_frame() {
                got.push(x);
            }
            assert_eq!(
                got,
                vec![Frame::Message(b"MSH|one".to_vec()), Frame::Message(b"MSH|two".to_vec())],
                "cut {cut}"
            );
            assert_eq!(f.pending(), 0);
        }
    }

    #[test]
    fn noise_before_a_frame_is_dropped_and_oversized_frames_are_refused() {
        let mut f = Framer::new(10);
        f.push(b"\r\n");
        f.push(&frame(b"ok"));
        assert_eq!(f.next_frame(), Some(Frame::Message(b"ok".to_vec())));
        f.push(&[START]);
        f.push(&[b'x'; 20]);
        assert_eq!(f.next_frame(), Some(Frame::TooLarge));
        assert_eq!(f.pending(), 0);
        // A frame of exactly the limit passes.
        f.push(&frame(&[b'y'; 10]));
        assert_eq!(f.next_frame(), Some(Frame::Message(vec![b'y'; 10])));
    }
}
