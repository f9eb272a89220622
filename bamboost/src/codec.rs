//! The one place that knows how values are turned into bytes for transfers between ranks.
//!
//! bincode 2 with its standard configuration, through serde. To swap the codec, change this
//! module only.

use crate::error::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Appends the encoding of `value` to `out`.
pub(crate) fn encode_into<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<()> {
    bincode::serde::encode_into_std_write(value, out, config())
        .map(drop)
        .map_err(|e| Error::Codec {
            action: "encode".into(),
            type_name: std::any::type_name::<T>().into(),
            message: e.to_string(),
        })
}

/// The encoding of `value`.
#[cfg(test)]
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    encode_into(value, &mut out)?;
    Ok(out)
}

/// Decodes a value that must fill `bytes` exactly.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let fail = |message: String| Error::Codec {
        action: "decode".into(),
        type_name: std::any::type_name::<T>().into(),
        message,
    };
    let (value, used) =
        bincode::serde::decode_from_slice(bytes, config()).map_err(|e| fail(e.to_string()))?;
    if used != bytes.len() {
        return Err(fail(format!("{} trailing bytes", bytes.len() - used)));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_of_nested_values() -> Result<()> {
        let value: (String, Vec<f64>, Option<Result<u8, String>>) =
            ("x".into(), vec![1.5, -2.0], Some(Err("bad".into())));
        assert_eq!(
            decode::<(String, Vec<f64>, Option<Result<u8, String>>)>(&encode(&value)?)?,
            value
        );
        Ok(())
    }

    #[test]
    fn decoding_the_wrong_type_is_an_error() -> Result<()> {
        let bytes = encode(&(1u64, 2u64, 3u64))?;
        let err = decode::<String>(&bytes).unwrap_err();
        assert!(
            matches!(err, Error::Codec { ref action, .. } if action == "decode"),
            "{err}"
        );
        Ok(())
    }
}
