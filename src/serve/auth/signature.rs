//! AK/SK signatures as Huawei Cloud's SDKs make them (`SDK-HMAC-SHA256`; what the SDK does on the
//! wire: `tests/clients/README.md` §1), checked the way the SDK computes them:
//!
//! ```text
//! canonical request = METHOD \n canonical URI \n canonical query \n
//!                     name:value \n ... (each signed header) \n signed;headers \n hex(sha256(body))
//! string to sign    = SDK-HMAC-SHA256 \n X-Sdk-Date \n hex(sha256(canonical request))
//! signature         = hex(HMAC-SHA256(secret key, string to sign))
//! ```
//!
//! The canonical URI is the path decoded, each segment encoded again with every byte but
//! `A-Z a-z 0-9 - _ . ~` percent-encoded, and a `/` at the end; the canonical query is the pairs
//! decoded, sorted by key then value, encoded the same way. The payload is hashed as received,
//! never re-serialised, and never taken from a header (`UNSIGNED-PAYLOAD` is refused). The signature is compared in constant time ([`ring::hmac::verify`]).

use ring::digest::{SHA256, digest};
use ring::hmac;

/// The scheme of the `Authorization` header this module checks.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// The header that carries the signing time, `YYYYMMDDTHHMMSSZ`.
pub const DATE_HEADER: &str = "x-sdk-date";
/// How far the signing time may be from the server's clock.
pub const MAX_SKEW_MS: i64 = 15 * 60 * 1000;

/// The parts of an `Authorization: SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The access key (AK).
    pub access: String,
    /// The signed headers, lower case, in the order signed.
    pub signed_headers: Vec<String>,
    /// The signature, as hex.
    pub signature: String,
}

/// A request as received: what the signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The path as sent (percent-encoded).
    pub path: &'a str,
    /// The query string as sent, without `?`.
    pub query: &'a str,
    /// The headers, by name in any case.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body bytes as received.
    pub body: &'a [u8],
}

impl Request<'_> {
    /// The value of the header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// Why a request's signature is not accepted (each names what is wrong; none shows a secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The `Authorization` header is not an `SDK-HMAC-SHA256` one.
    #[error("Authorization: {0}")]
    Malformed(String),
    /// A header named in `SignedHeaders` is not in the request.
    #[error("the signed header {0} is missing")]
    MissingHeader(String),
    /// `X-Sdk-Date` is missing, unreadable or too far from the server's clock.
    #[error("X-Sdk-Date: {0}")]
    Date(String),
    /// The signature does not match.
    #[error("the signature does not match")]
    Mismatch,
}

/// Parse an `Authorization` header value.
pub fn parse_authorization(value: &str) -> Result<Authorization, SignatureError> {
    let rest = value
        .trim()
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
        .ok_or_else(|| SignatureError::Malformed(format!("not {ALGORITHM}")))?;
    let (mut access, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, val) = part.trim().split_once('=').ok_or_else(|| {
            SignatureError::Malformed(format!("{:?} is not KEY=VALUE", part.trim()))
        })?;
        match key {
            "Access" => access = Some(val.to_string()),
            "SignedHeaders" => signed = Some(val.to_string()),
            "Signature" => signature = Some(val.to_string()),
            _ => {}
        }
    }
    let missing = |what: &str| SignatureError::Malformed(format!("no {what}"));
    let signed_headers: Vec<String> = signed
        .ok_or_else(|| missing("SignedHeaders"))?
        .split(';')
        .filter(|h| !h.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    if !signed_headers.iter().any(|h| h == DATE_HEADER) {
        return Err(SignatureError::Malformed(format!(
            "SignedHeaders does not include {DATE_HEADER}"
        )));
    }
    Ok(Authorization {
        access: access
            .filter(|a| !a.is_empty())
            .ok_or_else(|| missing("Access"))?,
        signed_headers,
        signature: signature
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("Signature"))?,
    })
}

/// Percent-encode as Python's `quote(s, safe='~')`: all but `A-Z a-z 0-9 - _ . ~`.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-decode (invalid escapes are kept as they are; not valid UTF-8: replaced).
fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// The canonical URI of a path as sent.
fn canonical_uri(path: &str) -> String {
    let decoded = decode(path);
    let mut uri = decoded.split('/').map(encode).collect::<Vec<_>>().join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// The canonical query string of a query as sent.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex(digest(&SHA256, bytes).as_ref())
}

/// The canonical request of `request` under the signed headers `signed`.
pub fn canonical_request(
    request: &Request<'_>,
    signed: &[String],
) -> Result<String, SignatureError> {
    let mut headers = String::new();
    for name in signed {
        let value = request
            .header(name)
            .ok_or_else(|| SignatureError::MissingHeader(name.clone()))?;
        headers.push_str(&format!("{name}:{}\n", value.trim()));
    }
    // Always the hash of the bytes received: a declared `X-Sdk-Content-Sha256` (or
    // `UNSIGNED-PAYLOAD`) is not trusted, so a body can never be swapped under a signature.
    let payload = hex_sha256(request.body);
    Ok([
        request.method.to_ascii_uppercase(),
        canonical_uri(request.path),
        canonical_query(request.query),
        headers,
        signed.join(";"),
        payload,
    ]
    .join("\n"))
}

/// The string that is signed.
pub fn string_to_sign(date: &str, canonical: &str) -> String {
    format!("{ALGORITHM}\n{date}\n{}", hex_sha256(canonical.as_bytes()))
}

/// The `X-Sdk-Date` of `request`, and the string it signs under the signed headers `signed`.
fn signed_string(
    request: &Request<'_>,
    signed: &[String],
) -> Result<(String, String), SignatureError> {
    let date = request
        .header(DATE_HEADER)
        .ok_or_else(|| SignatureError::Date("missing".into()))?;
    let to_sign = string_to_sign(date, &canonical_request(request, signed)?);
    Ok((date.trim().to_string(), to_sign))
}

/// The signature of `request` under the signed headers `signed` with `secret` (hex): what a
/// client with that secret sends.
pub fn sign(
    request: &Request<'_>,
    signed: &[String],
    secret: &str,
) -> Result<String, SignatureError> {
    let (_, to_sign) = signed_string(request, signed)?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    Ok(hex(hmac::sign(&key, to_sign.as_bytes()).as_ref()))
}

/// What can be checked without the secret key: the signed headers are there, `X-Sdk-Date` is
/// within [`MAX_SKEW_MS`] of the server's clock `now_ms`, the signature is hex. Checked for every
/// request before its access key is looked up, so these answers say nothing about which keys
/// exist.
pub fn check_envelope(
    headers: &[(&str, &str)],
    auth: &Authorization,
    now_ms: i64,
) -> Result<(), SignatureError> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    };
    for name in &auth.signed_headers {
        if header(name).is_none() {
            return Err(SignatureError::MissingHeader(name.clone()));
        }
    }
    let date = header(DATE_HEADER)
        .ok_or_else(|| SignatureError::Date("missing".into()))?
        .trim();
    let signed_at = chrono::NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| SignatureError::Date(format!("{date:?} is not YYYYMMDDTHHMMSSZ")))?
        .and_utc()
        .timestamp_millis();
    if (now_ms - signed_at).abs() > MAX_SKEW_MS {
        return Err(SignatureError::Date(format!(
            "{date} is more than 15 minutes from the server's time"
        )));
    }
    if auth.signature.len() != 64 || !auth.signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(SignatureError::Malformed(
            "Signature is not 64 hex digits".into(),
        ));
    }
    Ok(())
}

/// Check `request`'s signature under `auth` with `secret` (the SK of `auth.access`), and its
/// `X-Sdk-Date` against the server's clock `now_ms`.
pub fn verify(
    request: &Request<'_>,
    auth: &Authorization,
    secret: &str,
    now_ms: i64,
) -> Result<(), SignatureError> {
    let (date, to_sign) = signed_string(request, &auth.signed_headers)?;
    let signed_at = chrono::NaiveDateTime::parse_from_str(&date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| SignatureError::Date(format!("{date:?} is not YYYYMMDDTHHMMSSZ")))?
        .and_utc()
        .timestamp_millis();
    if (now_ms - signed_at).abs() > MAX_SKEW_MS {
        return Err(SignatureError::Date(format!(
            "{date} is more than 15 minutes from the server's time"
        )));
    }
    if !auth.signature.len().is_multiple_of(2) {
        return Err(SignatureError::Malformed("Signature is not hex".into()));
    }
    let given: Vec<u8> = (0..auth.signature.len() / 2)
        .map(|i| u8::from_str_radix(auth.signature.get(2 * i..2 * i + 2).unwrap_or("zz"), 16))
        .collect::<Result<_, _>>()
        .map_err(|_| SignatureError::Malformed("Signature is not hex".into()))?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    hmac::verify(&key, to_sign.as_bytes(), &given).map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2020-06-08T02:39:00Z and 2024-01-01T00:00:00Z, in ms.
    const JUNE_2020: i64 = 1_591_583_940_000;
    const NEW_YEAR_2024: i64 = 1_704_067_200_000;

    fn names(list: &str) -> Vec<String> {
        list.split(';').map(str::to_string).collect()
    }

    #[test]
    fn the_sdk_core_test_vector() {
        // huaweicloud-sdk-python-v3, huaweicloud-sdk-core/tests/test_signer.py.
        let headers = [
            ("Host", "service.endpoint.myhuaweicloud.com"),
            ("X-Sdk-Date", "20200608T023900Z"),
        ];
        let request = Request {
            method: "GET",
            path: "/resources",
            query: "size=1",
            headers: &headers,
            body: b"",
        };
        let signed = names("host;x-sdk-date");
        assert_eq!(
            canonical_request(&request, &signed),
            Ok(
                "GET\n/resources/\nsize=1\nhost:service.endpoint.myhuaweicloud.com\n\
                x-sdk-date:20200608T023900Z\n\nhost;x-sdk-date\n\
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                    .to_string()
            )
        );
        let header = "SDK-HMAC-SHA256 Access=my ak, SignedHeaders=host;x-sdk-date, \
                      Signature=6d5bc610d3d4475346aae5cd7ed8d99585e60c0430a1d3d6e2f54e2bdd633701";
        let auth = parse_authorization(header).expect("parses");
        assert_eq!(auth.access, "my ak");
        assert_eq!(verify(&request, &auth, "my sk", JUNE_2020 + 60_000), Ok(()));
        assert_eq!(
            verify(&request, &auth, "other sk", JUNE_2020),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn cts_calls_signed_by_the_python_sdk() {
        let get_headers = [
            ("Content-Type", "application/json"),
            ("Host", "127.0.0.1:8080"),
            ("X-Project-Id", "p1"),
            ("X-Sdk-Date", "20240101T000000Z"),
        ];
        let get = Request {
            method: "GET",
            path: "/v3/p1/traces",
            query: "limit=10&trace_type=system",
            headers: &get_headers,
            body: b"",
        };
        let signed = names("content-type;host;x-project-id;x-sdk-date");
        assert_eq!(
            sign(&get, &signed, "SKEXAMPLE"),
            Ok("ee29effbfab4e29d17b48e10afc19cc305fad2108bd098fc3eb8d7a42cad810e".to_string())
        );
        let post_headers = [
            ("Content-Type", "application/json;charset=utf-8"),
            ("Host", "127.0.0.1:8080"),
            ("X-Project-Id", "p1"),
            ("X-Sdk-Date", "20240101T000000Z"),
        ];
        let post = Request {
            method: "POST",
            path: "/v3/p1/tracker",
            query: "",
            headers: &post_headers,
            body: br#"{"tracker_type": "system", "tracker_name": "system"}"#,
        };
        let signature = "444be2713266e65b6f14cbe9699f520a134d35659cb928a6f520a0ca7b01f026";
        assert_eq!(sign(&post, &signed, "SKEXAMPLE"), Ok(signature.to_string()));
        let auth = Authorization {
            access: "AKEXAMPLE".into(),
            signed_headers: signed.clone(),
            signature: signature.into(),
        };
        assert_eq!(verify(&post, &auth, "SKEXAMPLE", NEW_YEAR_2024), Ok(()));
        // The same JSON re-serialised is another body: not what was signed.
        let compact = Request {
            body: br#"{"tracker_type":"system","tracker_name":"system"}"#,
            ..post
        };
        assert_eq!(
            verify(&compact, &auth, "SKEXAMPLE", NEW_YEAR_2024),
            Err(SignatureError::Mismatch)
        );
        // Signed 16 minutes before the server's time: refused, whatever the signature.
        assert!(matches!(
            verify(&post, &auth, "SKEXAMPLE", NEW_YEAR_2024 + 16 * 60_000),
            Err(SignatureError::Date(_))
        ));
    }

    #[test]
    fn queries_are_decoded_sorted_and_encoded_again() {
        assert_eq!(
            canonical_query("to=2&resource_name=a%20b%2Fc~d&from=1&limit=10&trace_type=system"),
            "from=1&limit=10&resource_name=a%20b%2Fc~d&to=2&trace_type=system"
        );
        assert_eq!(canonical_query("b=&a=2&a=1&flag"), "a=1&a=2&b=&flag=");
        assert_eq!(canonical_uri("/v3/p%201/traces"), "/v3/p%201/traces/");
        assert_eq!(canonical_uri("/"), "/");
    }

    #[test]
    fn malformed_headers_say_what_is_wrong() {
        assert_eq!(
            parse_authorization("Bearer x"),
            Err(SignatureError::Malformed("not SDK-HMAC-SHA256".into()))
        );
        assert_eq!(
            parse_authorization("SDK-HMAC-SHA256 Access=a, SignedHeaders=host, Signature=00"),
            Err(SignatureError::Malformed(
                "SignedHeaders does not include x-sdk-date".into()
            ))
        );
        assert_eq!(
            parse_authorization("SDK-HMAC-SHA256 SignedHeaders=host;x-sdk-date, Signature=00"),
            Err(SignatureError::Malformed("no Access".into()))
        );
        let headers = [("X-Sdk-Date", "20240101T000000Z")];
        let request = Request {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            body: b"",
        };
        assert_eq!(
            canonical_request(&request, &names("host;x-sdk-date")),
            Err(SignatureError::MissingHeader("host".into()))
        );
    }
}
