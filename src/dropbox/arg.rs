//! The `Dropbox-API-Arg` header: JSON made HTTP-header-safe by escaping 0x7F
//! and every non-ASCII character as `\uXXXX` (surrogate pairs above U+FFFF).

pub fn header_safe(json: &serde_json::Value) -> String {
    let text = json.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() && c != '\u{7f}' {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_as_the_docs_show() {
        assert_eq!(
            header_safe(&json!({"path": "/some_üñîcødé"})),
            r#"{"path":"/some_\u00fc\u00f1\u00eec\u00f8d\u00e9"}"#
        );
        assert_eq!(header_safe(&json!("🎉\u{7f}")), r#""\ud83c\udf89\u007f""#);
        // It stays valid JSON that decodes to the original.
        let v = json!({"path": "/Ünïcode 🎉/файл.csv"});
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&header_safe(&v)).unwrap(),
            v
        );
    }
}
