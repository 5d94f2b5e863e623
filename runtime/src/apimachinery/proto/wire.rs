//! Protobuf wire primitives: varints, tags, a field reader over a byte slice and field writers.

use super::ProtoError;

/// Wire type 0: varint.
pub(super) const VARINT: u8 = 0;
/// Wire type 1: 64-bit little-endian.
pub(super) const FIXED64: u8 = 1;
/// Wire type 2: length-delimited.
pub(super) const LEN: u8 = 2;
/// Wire type 5: 32-bit little-endian.
pub(super) const FIXED32: u8 = 5;

/// Largest field number protobuf allows.
const MAX_FIELD: u64 = (1 << 29) - 1;

/// One field's value as read from the wire.
#[derive(Debug, Clone, Copy)]
pub(super) enum WireValue<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 2.
    Bytes(&'a [u8]),
    /// Wire type 5.
    Fixed32(u32),
}

impl WireValue<'_> {
    /// The wire type number.
    pub(super) fn wire_type(&self) -> u8 {
        match self {
            WireValue::Varint(_) => VARINT,
            WireValue::Fixed64(_) => FIXED64,
            WireValue::Bytes(_) => LEN,
            WireValue::Fixed32(_) => FIXED32,
        }
    }
}

/// Reads the fields of one message in order.
pub(super) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf` (one message's bytes).
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// True when every byte was read.
    pub(super) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Reads a varint.
    pub(super) fn varint(&mut self) -> Result<u64, ProtoError> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(ProtoError::Malformed("unexpected EOF in a varint".into()));
            };
            self.pos += 1;
            if i == 9 && b > 1 {
                return Err(ProtoError::Malformed("varint overflows 64 bits".into()));
            }
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err(ProtoError::Malformed("varint longer than 10 bytes".into()))
    }

    /// Reads 8 little-endian bytes (a packed double).
    pub(super) fn fixed64(&mut self) -> Result<u64, ProtoError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtoError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len());
        let Some(end) = end else {
            return Err(ProtoError::Malformed(format!("unexpected EOF: a field wants {n} bytes, {} are left", self.buf.len() - self.pos)));
        };
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// The next field (number and value), or `None` at the end of the message.
    pub(super) fn next_field(&mut self) -> Result<Option<(u32, WireValue<'a>)>, ProtoError> {
        if self.is_empty() {
            return Ok(None);
        }
        let tag = self.varint()?;
        let number = tag >> 3;
        if number == 0 || number > MAX_FIELD {
            return Err(ProtoError::Malformed(format!("illegal field number {number}")));
        }
        let number = number as u32;
        let value = match (tag & 7) as u8 {
            VARINT => WireValue::Varint(self.varint()?),
            FIXED64 => WireValue::Fixed64(self.fixed64()?),
            LEN => {
                let n = self.varint()?;
                let n = usize::try_from(n).map_err(|_| ProtoError::Malformed(format!("length {n} too large")))?;
                WireValue::Bytes(self.take(n)?)
            }
            FIXED32 => {
                let b = self.take(4)?;
                let mut a = [0u8; 4];
                a.copy_from_slice(b);
                WireValue::Fixed32(u32::from_le_bytes(a))
            }
            wt @ (3 | 4) => return Err(ProtoError::Malformed(format!("field {number}: groups (wire type {wt}) are not supported"))),
            wt => return Err(ProtoError::Malformed(format!("field {number}: illegal wire type {wt}"))),
        };
        Ok(Some((number, value)))
    }
}

/// Appends a varint.
pub(super) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends a field tag.
pub(super) fn put_tag(out: &mut Vec<u8>, number: u32, wire_type: u8) {
    put_varint(out, (u64::from(number) << 3) | u64::from(wire_type));
}

/// Appends a varint field.
pub(super) fn put_varint_field(out: &mut Vec<u8>, number: u32, v: u64) {
    put_tag(out, number, VARINT);
    put_varint(out, v);
}

/// Appends a length-delimited field.
pub(super) fn put_bytes_field(out: &mut Vec<u8>, number: u32, bytes: &[u8]) {
    put_tag(out, number, LEN);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Appends a 64-bit field.
pub(super) fn put_fixed64_field(out: &mut Vec<u8>, number: u32, v: u64) {
    put_tag(out, number, FIXED64);
    out.extend_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        for v in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX, (-1i64) as u64] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            let mut r = Reader::new(&out);
            assert_eq!(r.varint().expect("varint"), v);
            assert!(r.is_empty());
        }
        let mut out = Vec::new();
        put_varint(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
    }

    #[test]
    fn malformed_input_is_an_error() {
        // Truncated varint, truncated length, field number 0, group wire type.
        for bad in [&[0x08, 0x80][..], &[0x0a, 0x05, 0x01], &[0x00, 0x01], &[0x0b]] {
            let mut r = Reader::new(bad);
            assert!(r.next_field().is_err(), "{bad:?}");
        }
        let eleven = [0xffu8; 11];
        assert!(Reader::new(&eleven).varint().is_err());
    }
}
