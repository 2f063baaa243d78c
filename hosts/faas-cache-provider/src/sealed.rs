//! The sealed list format that scope snapshots and state files share: a 4-byte magic, a format
//! version, then named byte strings, then a CRC-32 (`crc32fast`) of everything before it.
//!
//! ```text
//! magic[4] version:u8 count:u64le { name_len:u64le name[name_len] len:u64le bytes[len] }* crc32:u32le
//! ```
//!
//! Invariant: [`open`] checks the length and the CRC before it reads anything, then checks every
//! length against what is left, so truncated, corrupt or foreign input is an error, never a panic
//! or an allocation larger than the input.

use std::fmt;

/// The format version this crate writes and reads.
pub const VERSION: u8 = 1;

/// Why sealed bytes could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedError(pub String);

impl fmt::Display for SealedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SealedError {}

fn push_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// `items` sealed under `magic`.
pub fn seal<'a>(magic: &[u8; 4], items: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(magic);
    out.push(VERSION);
    out.extend_from_slice(&[0; 8]);
    let mut count = 0u64;
    for (name, bytes) in items {
        push_bytes(&mut out, name.as_bytes());
        push_bytes(&mut out, bytes);
        count += 1;
    }
    out[5..13].copy_from_slice(&count.to_le_bytes());
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// A reader over checked bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], SealedError> {
        if self.0.len() < n {
            return Err(SealedError(format!("truncated in {what}")));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u64(&mut self, what: &str) -> Result<u64, SealedError> {
        let b = self.take(8, what)?;
        let mut le = [0; 8];
        le.copy_from_slice(b);
        Ok(u64::from_le_bytes(le))
    }

    fn bytes(&mut self, what: &str) -> Result<&'a [u8], SealedError> {
        // A length past what is left is truncation (never an allocation).
        let len = usize::try_from(self.u64(what)?).unwrap_or(usize::MAX);
        self.take(len, what)
    }
}

/// The named byte strings sealed under `magic`, in order.
pub fn open<'a>(magic: &[u8; 4], sealed: &'a [u8]) -> Result<Vec<(String, &'a [u8])>, SealedError> {
    if sealed.len() < 17 {
        return Err(SealedError(format!("{} bytes: too short", sealed.len())));
    }
    let (body, crc) = sealed.split_at(sealed.len() - 4);
    if &body[..4] != magic {
        return Err(SealedError(format!(
            "not a {} file (magic {:?})",
            String::from_utf8_lossy(magic),
            String::from_utf8_lossy(&body[..4])
        )));
    }
    if body[4] != VERSION {
        return Err(SealedError(format!(
            "format version {} (this build reads {VERSION})",
            body[4]
        )));
    }
    let stored = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    if crc32fast::hash(body) != stored {
        return Err(SealedError("checksum mismatch".into()));
    }
    let mut r = Reader(&body[5..]);
    let count = r.u64("the count")?;
    let mut items = Vec::new();
    for i in 0..count {
        let name = r.bytes("a name")?;
        let name =
            std::str::from_utf8(name).map_err(|_| SealedError(format!("name {i} is not UTF-8")))?;
        let bytes = r.bytes("an item")?;
        items.push((name.to_owned(), bytes));
    }
    if !r.0.is_empty() {
        return Err(SealedError(format!(
            "{} bytes after the last item",
            r.0.len()
        )));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_corruption_is_an_error() {
        let sealed = seal(
            b"TEST",
            [("a", &b"one"[..]), ("bé", &b""[..]), ("c", &[0u8; 40][..])],
        );
        let items = open(b"TEST", &sealed).unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[1], ("bé".to_owned(), &b""[..]));
        assert!(open(b"XXXX", &sealed).is_err());
        for cut in 0..sealed.len() {
            assert!(open(b"TEST", &sealed[..cut]).is_err(), "cut at {cut}");
        }
        for byte in 0..sealed.len() {
            for bit in 0..8 {
                let mut flipped = sealed.clone();
                flipped[byte] ^= 1 << bit;
                assert!(open(b"TEST", &flipped).is_err(), "flip {byte}.{bit}");
            }
        }
        let empty = seal(b"TEST", []);
        assert_eq!(open(b"TEST", &empty).unwrap(), vec![]);
    }
}
