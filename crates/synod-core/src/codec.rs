//! Canonical binary encoding: fixed-width big-endian integers, no padding, no
//! optional fields without an explicit tag. The reader never panics; every
//! malformed input becomes a [`DecodeError`].

/// Why a byte string is not a valid encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("input ended early: needed {needed} more bytes at offset {offset}")]
    Truncated { offset: usize, needed: usize },
    #[error("{trailing} trailing bytes after a complete value")]
    TrailingBytes { trailing: usize },
    #[error("wrong domain prefix for {what}")]
    WrongDomain { what: &'static str },
    #[error("field {field} is out of range: {value}")]
    OutOfRange { field: &'static str, value: u64 },
    #[error("unknown tag {tag} for {field}")]
    UnknownTag { field: &'static str, tag: u8 },
    #[error("{what}: {detail}")]
    Invalid { what: &'static str, detail: String },
}

/// Appends canonical encodings to a byte vector.
#[derive(Debug, Default)]
pub struct Writer {
    pub bytes: Vec<u8>,
}

impl Writer {
    pub fn with_capacity(capacity: usize) -> Self {
        Writer { bytes: Vec::with_capacity(capacity) }
    }
    pub fn raw(&mut self, data: &[u8]) {
        self.bytes.extend_from_slice(data);
    }
    pub fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }
    pub fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_be_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_be_bytes());
    }
}

/// Reads canonical encodings from a byte slice, tracking the offset for errors.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, offset: 0 }
    }
    pub fn offset(&self) -> usize {
        self.offset
    }
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.offset
    }
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::Truncated { offset: self.offset, needed: n - self.remaining() });
        }
        let out = &self.bytes[self.offset..self.offset + n];
        self.offset += n;
        Ok(out)
    }
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let slice = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    pub fn expect_domain(&mut self, domain: &[u8], what: &'static str) -> Result<(), DecodeError> {
        let got = self.take(domain.len())?;
        if got != domain {
            return Err(DecodeError::WrongDomain { what });
        }
        Ok(())
    }
    /// Fails unless every byte was consumed: a canonical encoding has exactly one form.
    pub fn finish(self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            trailing => Err(DecodeError::TrailingBytes { trailing }),
        }
    }
}
