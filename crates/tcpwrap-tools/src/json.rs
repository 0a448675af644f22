//! A small JSON writer for the tools' `--json` output. Values are byte
//! strings (tables and names may hold any byte): valid UTF-8 is kept,
//! invalid sequences become U+FFFD, and control characters are escaped.

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Str(Vec<u8>),
    Array(Vec<Value>),
    /// Members in insertion order.
    Object(Vec<(&'static str, Value)>),
}

impl Value {
    pub fn str(s: impl AsRef<[u8]>) -> Value {
        Value::Str(s.as_ref().to_vec())
    }

    pub fn opt_str(s: Option<impl AsRef<[u8]>>) -> Value {
        s.map_or(Value::Null, Value::str)
    }

    /// Compact serialisation.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::Str(s) => escape(s, out),
            Value::Array(v) => {
                out.push('[');
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    x.write(out);
                }
                out.push(']');
            }
            Value::Object(m) => {
                out.push('{');
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    escape(k.as_bytes(), out);
                    out.push(':');
                    x.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// A JSON string literal for bytes.
pub fn escape(s: &[u8], out: &mut String) {
    out.push('"');
    for c in String::from_utf8_lossy(s).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_bytes() {
        let v = Value::Object(vec![
            ("a", Value::str(b"q\"b\\s\n\r\t\x01\x7f\xffz")),
            (
                "b",
                Value::Array(vec![Value::Int(-3), Value::Bool(true), Value::Null]),
            ),
            ("c", Value::str("häst")),
        ]);
        assert_eq!(
            v.render(),
            r#"{"a":"q\"b\\s\n\r\t\u0001\u007f�z","b":[-3,true,null],"c":"häst"}"#
        );
    }
}
