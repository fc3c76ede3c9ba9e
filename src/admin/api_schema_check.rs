//! Test support: the field names a `#[derive(Deserialize)]` struct accepts, read from serde
//! itself (the derive passes them to `deserialize_struct`), so the OpenAPI schemas can be
//! checked against the request types without a schema generator.

use serde::de::{self, Deserialize, Deserializer, Visitor};

#[derive(Default)]
struct Capture {
    fields: Option<&'static [&'static str]>,
}

impl<'de> Deserializer<'de> for &mut Capture {
    type Error = de::value::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.fields = Some(fields);
        Err(de::Error::custom("fields captured"))
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a derived struct"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The JSON field names `T` accepts, sorted.
pub fn fields_of<'de, T: Deserialize<'de>>() -> Vec<&'static str> {
    let mut capture = Capture::default();
    let _ = T::deserialize(&mut capture);
    let mut fields = capture
        .fields
        .expect("a struct deriving Deserialize")
        .to_vec();
    fields.sort_unstable();
    fields
}
