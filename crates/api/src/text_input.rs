//! The one place where every string a client sends is checked for characters the service cannot store
//! or search faithfully (hotline_domain::characters): each string of every JSON body, whatever its
//! depth, before the handler sees it ([`crate::extract::parse_json`]), and each query parameter under
//! `/v1` ([`refuse_bad_query_text`]). Fields are single-line unless the body type lists them as free
//! text ([`crate::extract::RequestBody::FREE_TEXT`]). Refusals name the field as the client sent it.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError};
use hotline_domain::ValidationErrors;
use hotline_domain::characters::TextKind;
use percent_encoding::percent_decode;
use serde_json::Value;

use crate::problem::ApiError;

/// Checks every string in a JSON body; `free_text` lists the paths that take free text (`[]` stands
/// for any array index). Object keys are not checked: a body type knows its keys and refuses others.
pub fn check_json_text(body: &Value, free_text: &[&str]) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    walk(body, &mut String::new(), free_text, &mut errors);
    errors.into_result()
}

fn walk(value: &Value, path: &mut String, free_text: &[&str], errors: &mut ValidationErrors) {
    match value {
        Value::String(text) => {
            let kind = if is_free_text(path, free_text) { TextKind::FreeText } else { TextKind::SingleLine };
            if let Err(error) = kind.check(path, text) {
                errors.push(error);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let length = path.len();
                path.push_str(&format!("[{index}]"));
                walk(item, path, free_text, errors);
                path.truncate(length);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let length = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                walk(item, path, free_text, errors);
                path.truncate(length);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Whether `path` (`facts.systems_affected[3]`) matches one of the patterns (`facts.systems_affected[]`).
fn is_free_text(path: &str, patterns: &[&str]) -> bool {
    if !path.contains('[') {
        return patterns.contains(&path);
    }
    let mut generic = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                generic.push('[');
            }
            ']' => {
                in_index = false;
                generic.push(']');
            }
            _ if in_index => {}
            _ => generic.push(c),
        }
    }
    patterns.contains(&generic.as_str())
}

/// Checks one query string: every parameter name and value, percent-decoded, must be UTF-8 (else 400
/// `bad-request`) and single-line text (else 422 naming the parameter). `+` is a space, as in forms.
pub fn check_query(query: &str) -> Result<(), ApiError> {
    let mut errors = ValidationErrors::default();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(raw_name)?;
        let value = decode(raw_value)?;
        if let Err(error) = TextKind::SingleLine.check(&name, &name) {
            errors.push(error);
        } else if let Err(error) = TextKind::SingleLine.check(&name, &value) {
            errors.push(error);
        }
    }
    errors.into_result().map_err(ApiError::Validation)
}

fn decode(raw: &str) -> Result<String, ApiError> {
    let spaced = raw.replace('+', " ");
    let bytes: Vec<u8> = percent_decode(spaced.as_bytes()).collect();
    String::from_utf8(bytes).map_err(|_| {
        ApiError::MalformedRequest(
            "the query string is not UTF-8 once percent-decoded; encode text as UTF-8".to_owned(),
        )
    })
}

/// Middleware on `/v1`: refuses a query string holding invalid UTF-8 or characters no field takes,
/// before any route reads it.
pub async fn refuse_bad_query_text(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static, BoxBody>>, Error> {
    if let Err(error) = check_query(req.query_string()) {
        let response = error.error_response();
        return Ok(req.into_response(response).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn refused(body: &Value, free_text: &[&str]) -> Vec<String> {
        match check_json_text(body, free_text) {
            Ok(()) => Vec::new(),
            Err(errors) => errors.0.into_iter().map(|error| error.field).collect(),
        }
    }

    #[test]
    fn every_string_is_checked_and_named_by_its_path_as_sent() {
        let body = json!({
            "caller_name": "A\u{0}B",
            "institution": { "name": "ok", "address": "x\u{7f}" },
            "facts": { "systems_affected": ["電子カルテ", "レセ\u{85}コン"], "people_affected": 3 },
            "consent": { "name": "山田\n太郎" },
            "summary": "fine",
        });
        let mut fields = refused(&body, &[]);
        fields.sort();
        assert_eq!(
            fields,
            ["caller_name", "consent.name", "facts.systems_affected[1]", "institution.address"]
        );
    }

    #[test]
    fn free_text_paths_take_tabs_and_line_breaks_but_not_other_controls() {
        let body = json!({ "summary": "一行目\r\n\t二行目", "note": "a\u{0}b", "name": "a\tb" });
        assert_eq!(refused(&body, &["summary", "note"]), ["name", "note"]);
        let body = json!({ "items": ["a\nb", "c\u{1}"] });
        assert_eq!(refused(&body, &["items[]"]), ["items[1]"]);
    }

    #[test]
    fn numbers_booleans_nulls_and_keys_are_not_text_fields() {
        assert_eq!(refused(&json!({ "a\u{0}": 1, "b": null, "c": [true, 2.5] }), &[]), Vec::<String>::new());
    }

    #[test]
    fn array_index_patterns_match_any_index_only() {
        assert!(is_free_text("facts.notes[12]", &["facts.notes[]"]));
        assert!(is_free_text("a[1].b[2]", &["a[].b[]"]));
        assert!(!is_free_text("facts.notes", &["facts.notes[]"]));
        assert!(!is_free_text("summary2", &["summary"]));
    }

    #[test]
    fn query_text_is_percent_decoded_before_the_check() {
        assert!(check_query("q=%E5%B1%B1%E7%94%B0+%E5%A4%AA%E9%83%8E&limit=5").is_ok());
        assert!(check_query("").is_ok());
        let Err(ApiError::Validation(errors)) = check_query("q=A%00B") else { panic!("NUL in q") };
        assert_eq!(errors.0[0].field, "q");
        let Err(ApiError::Validation(errors)) = check_query("status=new&q=%0A") else { panic!("LF in q") };
        assert_eq!(errors.0[0].field, "q");
        assert!(matches!(check_query("q=%FF%FE"), Err(ApiError::MalformedRequest(_))));
        assert!(matches!(check_query("q=%ED%A0%80"), Err(ApiError::MalformedRequest(_))), "a surrogate");
    }
}
