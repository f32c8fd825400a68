//! serde for [`Reply`]: `{"code": 550, "lines": ["5.1.1 user unknown"]}`, with
//! `"mixed_codes": true` for a reply whose lines disagreed about the code.
//!
//! Each line is a string when it is valid UTF-8 and otherwise an array of its bytes,
//! so a reply round-trips exactly, whatever the server sent. The enhanced code is not
//! stored: it is derived from the lines again.

use core::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

use super::{Reply, ReplyCode};

struct Line<'a>(&'a [u8]);

impl Serialize for Line<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match core::str::from_utf8(self.0) {
            Ok(text) => s.serialize_str(text),
            Err(_) => {
                let mut seq = s.serialize_seq(Some(self.0.len()))?;
                for b in self.0 {
                    seq.serialize_element(b)?;
                }
                seq.end()
            }
        }
    }
}

struct Lines<'a>(&'a Reply);

impl Serialize for Lines<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.lines().map(Line))
    }
}

impl Serialize for Reply {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Reply", 2 + usize::from(self.mixed))?;
        st.serialize_field("code", &self.code)?;
        st.serialize_field("lines", &Lines(self))?;
        if self.mixed {
            st.serialize_field("mixed_codes", &true)?;
        } else {
            st.skip_field("mixed_codes")?;
        }
        st.end()
    }
}

/// One line read back: a string or an array of bytes.
struct LineBuf(Vec<u8>);

impl<'de> Deserialize<'de> for LineBuf {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LineBuf;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a reply line: a string or an array of bytes")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LineBuf, E> {
                Ok(LineBuf(v.as_bytes().to_vec()))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<LineBuf, E> {
                Ok(LineBuf(v.to_vec()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LineBuf, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(LineBuf(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(rename = "Reply", deny_unknown_fields)]
struct Raw {
    code: ReplyCode,
    lines: Vec<LineBuf>,
    #[serde(default)]
    mixed_codes: bool,
}

impl<'de> Deserialize<'de> for Reply {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Raw::deserialize(d)?;
        if raw.lines.iter().any(|l| l.0.contains(&b'\n')) {
            return Err(de::Error::custom(
                "a reply line cannot contain a line feed (LF ends a line on the wire)",
            ));
        }
        Ok(Reply::new(raw.code, raw.lines.into_iter().map(|l| l.0))
            .with_mixed_codes(raw.mixed_codes))
    }
}
