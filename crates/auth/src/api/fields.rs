//! Serializer-style validation of `request.data`: DRF's CharField rules and messages, errors
//! collected per field in declaration order.

use serde_json::{Map, Value};

use super::error::ApiError;

/// Validates the fields of one request body; `finish` turns collected errors into one 400.
pub struct Fields<'a> {
    data: &'a Map<String, Value>,
    errors: Map<String, Value>,
}

/// Python's type name for a JSON value, as DRF's "Expected a dictionary, but got X." says it.
fn python_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

impl<'a> Fields<'a> {
    /// The body must be an object: `null` is "No data provided", other shapes are named.
    pub fn new(data: &'a Value) -> Result<Self, ApiError> {
        match data {
            Value::Object(map) => Ok(Fields {
                data: map,
                errors: Map::new(),
            }),
            Value::Null => Err(ApiError::NonField("No data provided".into())),
            other => Err(ApiError::NonField(format!(
                "Invalid data. Expected a dictionary, but got {}.",
                python_type(other)
            ))),
        }
    }

    /// A required `CharField(trim_whitespace=True, allow_blank=False)`.
    pub fn char_field(&mut self, name: &str) -> Option<String> {
        match char_value(self.data.get(name)) {
            Ok(v) => Some(v),
            Err(msg) => {
                self.errors.insert(
                    name.to_owned(),
                    Value::Array(vec![Value::String(msg.into())]),
                );
                None
            }
        }
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Fields(self.errors))
        }
    }
}

/// DRF's CharField: null, blank (after trimming), type, then the null-character validator.
fn char_value(value: Option<&Value>) -> Result<String, &'static str> {
    let number;
    let text = match value {
        None => return Err("This field is required."),
        Some(Value::Null) => return Err("This field may not be null."),
        // Borrowed: the one copy is the trimmed value returned.
        Some(Value::String(s)) => s.as_str(),
        // A number is taken as its string, as Python's str() writes it.
        Some(Value::Number(n)) => {
            number = n.to_string();
            number.as_str()
        }
        Some(_) => {
            return Err("Not a valid string.");
        }
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("This field may not be blank.");
    }
    if trimmed.contains('\0') {
        return Err("Null characters are not allowed.");
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors(body: Value) -> Value {
        let mut f = match Fields::new(&body) {
            Ok(f) => f,
            Err(ApiError::NonField(m)) => return json!({ "non_field_errors": [m] }),
            Err(e) => return json!(e.to_string()),
        };
        let u = f.char_field("username");
        let p = f.char_field("password");
        match f.finish() {
            Ok(()) => json!({ "ok": [u, p] }),
            Err(ApiError::Fields(m)) => Value::Object(m),
            Err(e) => json!(e.to_string()),
        }
    }

    #[test]
    fn drf_charfield_messages() {
        assert_eq!(
            errors(json!({})),
            json!({"username": ["This field is required."], "password": ["This field is required."]})
        );
        assert_eq!(
            errors(json!({"username": "", "password": "x"})),
            json!({"username": ["This field may not be blank."]})
        );
        assert_eq!(
            errors(json!({"username": "  ", "password": "x"})),
            json!({"username": ["This field may not be blank."]})
        );
        assert_eq!(
            errors(json!({"username": null, "password": "x"})),
            json!({"username": ["This field may not be null."]})
        );
        for bad in [json!(true), json!([]), json!({})] {
            assert_eq!(
                errors(json!({"username": bad, "password": "x"})),
                json!({"username": ["Not a valid string."]})
            );
        }
        assert_eq!(
            errors(json!({"username": "a\u{0}b", "password": "x"})),
            json!({"username": ["Null characters are not allowed."]})
        );
        assert_eq!(
            errors(json!({"username": 12, "password": " p w "})),
            json!({"ok": ["12", "p w"]})
        );
    }

    #[test]
    fn body_must_be_an_object() {
        let cases = [
            (json!(null), "No data provided"),
            (
                json!([]),
                "Invalid data. Expected a dictionary, but got list.",
            ),
            (
                json!("s"),
                "Invalid data. Expected a dictionary, but got str.",
            ),
            (
                json!(1),
                "Invalid data. Expected a dictionary, but got int.",
            ),
            (
                json!(1.5),
                "Invalid data. Expected a dictionary, but got float.",
            ),
            (
                json!(true),
                "Invalid data. Expected a dictionary, but got bool.",
            ),
        ];
        for (body, msg) in cases {
            assert_eq!(errors(body), json!({ "non_field_errors": [msg] }));
        }
    }
}
