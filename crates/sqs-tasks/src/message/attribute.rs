//! Message attributes: typed values that travel beside the body.

use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::MessageAttributeValue;

/// One message attribute: a String, Number or Binary value, with an optional custom type suffix
/// (`Number.float`, `Binary.png`) that SQS keeps but does not interpret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttributeValue {
    /// A text value (`String` or `String.<custom>`).
    String {
        /// The text.
        value: String,
        /// The custom suffix after `String.`, if any.
        custom_type: Option<String>,
    },
    /// A number, kept as its decimal text as SQS does (`Number` or `Number.<custom>`).
    Number {
        /// The number's text, e.g. `"42"` or `"-1.5e3"`.
        value: String,
        /// The custom suffix after `Number.`, if any.
        custom_type: Option<String>,
    },
    /// Raw bytes (`Binary` or `Binary.<custom>`).
    Binary {
        /// The bytes.
        value: Vec<u8>,
        /// The custom suffix after `Binary.`, if any.
        custom_type: Option<String>,
    },
}

impl AttributeValue {
    /// A `String` attribute.
    pub fn string(value: impl Into<String>) -> Self {
        AttributeValue::String {
            value: value.into(),
            custom_type: None,
        }
    }

    /// A `Number` attribute from anything that prints as a number.
    pub fn number(value: impl ToString) -> Self {
        AttributeValue::Number {
            value: value.to_string(),
            custom_type: None,
        }
    }

    /// A `Binary` attribute.
    pub fn binary(value: impl Into<Vec<u8>>) -> Self {
        AttributeValue::Binary {
            value: value.into(),
            custom_type: None,
        }
    }

    /// The same value with a custom type suffix (`number(3).with_custom_type("int")` is sent
    /// as data type `Number.int`).
    pub fn with_custom_type(mut self, suffix: impl Into<String>) -> Self {
        let suffix = Some(suffix.into());
        match &mut self {
            AttributeValue::String { custom_type, .. }
            | AttributeValue::Number { custom_type, .. }
            | AttributeValue::Binary { custom_type, .. } => *custom_type = suffix,
        }
        self
    }

    /// The value as text, for String and Number attributes.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttributeValue::String { value, .. } | AttributeValue::Number { value, .. } => {
                Some(value)
            }
            AttributeValue::Binary { .. } => None,
        }
    }

    /// The value's bytes, for Binary attributes.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            AttributeValue::Binary { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The full SQS data type, custom suffix included (`Number.float`).
    pub fn data_type(&self) -> String {
        let (base, custom) = match self {
            AttributeValue::String { custom_type, .. } => ("String", custom_type),
            AttributeValue::Number { custom_type, .. } => ("Number", custom_type),
            AttributeValue::Binary { custom_type, .. } => ("Binary", custom_type),
        };
        match custom {
            Some(suffix) => format!("{base}.{suffix}"),
            None => base.to_owned(),
        }
    }

    /// The number of bytes this attribute counts for in SQS's message size limit (type and
    /// value; the caller adds the name).
    pub(crate) fn wire_size(&self) -> usize {
        let value_len = match self {
            AttributeValue::Binary { value, .. } => value.len(),
            other => other.as_str().map_or(0, str::len),
        };
        self.data_type().len() + value_len
    }

    /// Reads an SDK attribute; `None` for list types, which SQS reserves and never returns.
    pub(crate) fn from_sdk(value: &MessageAttributeValue) -> Option<Self> {
        let data_type = value.data_type();
        let (base, custom) = match data_type.split_once('.') {
            Some((base, suffix)) => (base, Some(suffix.to_owned())),
            None => (data_type, None),
        };
        let text = || value.string_value().unwrap_or_default().to_owned();
        let parsed = match base {
            "String" => AttributeValue::String {
                value: text(),
                custom_type: custom,
            },
            "Number" => AttributeValue::Number {
                value: text(),
                custom_type: custom,
            },
            "Binary" => AttributeValue::Binary {
                value: value
                    .binary_value()
                    .map(|b| b.as_ref().to_vec())
                    .unwrap_or_default(),
                custom_type: custom,
            },
            _ => return None,
        };
        Some(parsed)
    }

    /// Builds the SDK form, for sends.
    pub(crate) fn to_sdk(&self) -> MessageAttributeValue {
        let builder = MessageAttributeValue::builder().data_type(self.data_type());
        let builder = match self {
            AttributeValue::Binary { value, .. } => builder.binary_value(Blob::new(value.clone())),
            other => builder.string_value(other.as_str().unwrap_or_default()),
        };
        // The only required field, the data type, is always set above.
        builder.build().expect("data type is set")
    }
}

#[cfg(test)]
mod tests {
    use super::AttributeValue;

    #[test]
    fn custom_suffix_survives_a_round_trip_through_the_sdk_form() {
        let original = AttributeValue::number(1.5).with_custom_type("float");
        assert_eq!(original.data_type(), "Number.float");
        let back = AttributeValue::from_sdk(&original.to_sdk()).unwrap();
        assert_eq!(back, original);

        let bin = AttributeValue::binary(vec![0u8, 255]).with_custom_type("raw");
        assert_eq!(AttributeValue::from_sdk(&bin.to_sdk()).unwrap(), bin);
        assert_eq!(bin.as_bytes(), Some(&[0u8, 255][..]));
    }
}
