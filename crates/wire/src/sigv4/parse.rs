//! Reading the signature parameters out of a request: the `Authorization` header or the
//! presigned query parameters, the credential scope, and the SigV4 date formats.

use super::error::{echo_authorization, redact_authorization, AuthError};
use super::CredentialScope;
use std::borrow::Cow;

/// The only algorithm accepted.
pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The credential-scope terminator.
pub(crate) const TERMINATOR: &str = "aws4_request";
/// Longest lifetime of a presigned URL: one week, in seconds.
pub(crate) const MAX_EXPIRES: u64 = 604_800;

/// Query parameters whose presence makes a request a presigned one.
const PRESIGN_MARKERS: [&str; 3] = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"];

/// The signature parameters of a request, however they were sent.
#[derive(Debug)]
pub(crate) struct AuthParams {
    /// From the query string rather than the `Authorization` header.
    pub presigned: bool,
    /// The parsed `Credential` / `X-Amz-Credential`.
    pub scope: CredentialScope,
    /// `SignedHeaders` exactly as sent (`;`-separated).
    pub signed_headers: String,
    /// The hex signature as sent.
    pub signature: String,
    /// The request time as it appears in the string to sign (`20260101T000000Z`).
    pub amz_date: String,
    /// The request time, seconds since the epoch.
    pub request_secs: i64,
    /// `X-Amz-Expires`, presigned requests only.
    pub expires_secs: Option<u64>,
    /// `X-Amz-Security-Token`, from the header or the query.
    pub security_token: Option<String>,
}

/// Whether any presigning parameter is present in the decoded query.
pub(crate) fn has_presign_params(query: &[(Cow<'_, str>, Cow<'_, str>)]) -> bool {
    query.iter().any(|(k, _)| PRESIGN_MARKERS.contains(&k.as_ref()))
}

fn query_param<'q>(query: &'q [(Cow<'_, str>, Cow<'_, str>)], name: &str) -> Option<&'q str> {
    query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_ref())
}

/// `key=value` parameters after the algorithm of an `Authorization` header.
struct HeaderParts<'a> {
    algorithm: &'a str,
    credential: Option<&'a str>,
    signed_headers: Option<&'a str>,
    signature: Option<&'a str>,
}

/// Splits an `Authorization` header. For an `AWS4-HMAC-SHA256` header, a component without `=`
/// is an error, as with AWS; for other schemes the components are ignored, so that the caller
/// reports the missing SigV4 parameters.
fn split_header(raw: &str) -> Result<HeaderParts<'_>, AuthError> {
    let raw = raw.trim();
    let (algorithm, rest) = match raw.split_once([' ', '\t']) {
        Some((a, r)) => (a, r),
        None => (raw, ""),
    };
    let mut parts = HeaderParts { algorithm, credential: None, signed_headers: None, signature: None };
    if !algorithm.starts_with("AWS4-") {
        return Ok(parts);
    }
    for component in rest.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let Some((key, value)) = component.split_once('=') else {
            return Err(AuthError::incomplete(
                format!(
                    "'{}' not a valid key=value pair (missing equal-sign) in Authorization header: '{}'.",
                    shorten(component, 40),
                    redact_authorization(raw)
                ),
                None,
            ));
        };
        let slot = match key.trim() {
            "Credential" => &mut parts.credential,
            "SignedHeaders" => &mut parts.signed_headers,
            "Signature" => &mut parts.signature,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(value.trim());
        }
    }
    Ok(parts)
}

/// Reads the signature parameters of a header-signed request.
pub(crate) fn from_header(raw: &str, headers: &http::HeaderMap) -> Result<AuthParams, AuthError> {
    let parts = split_header(raw)?;
    let date_header = headers.get("x-amz-date").or_else(|| headers.get(http::header::DATE));
    let date_value = date_header.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let key = parts.credential.and_then(split_credential).map(|s| s.access_key_id);

    let mut missing = String::new();
    let required = [
        ("Credential", parts.credential.is_none()),
        ("Signature", parts.signature.is_none()),
        ("SignedHeaders", parts.signed_headers.is_none()),
    ];
    for (name, absent) in required {
        if absent {
            missing.push_str(&format!("Authorization header requires '{name}' parameter. "));
        }
    }
    if date_value.is_none() {
        missing.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    let (Some(credential), Some(signature), Some(signed_headers), Some(date)) =
        (parts.credential, parts.signature, parts.signed_headers, date_value)
    else {
        return Err(AuthError::incomplete(format!("{missing}{}", echo_authorization(raw)), key.as_deref()));
    };
    if parts.algorithm != ALGORITHM {
        return Err(unsupported_algorithm(parts.algorithm, key.as_deref()));
    }
    let scope = parse_credential(credential).map_err(|m| AuthError::incomplete(m, key.as_deref()))?;
    let (request_secs, amz_date) = parse_request_date(&date, headers.contains_key("x-amz-date"))
        .ok_or_else(|| bad_date(&date, &scope.access_key_id))?;
    let security_token =
        headers.get("x-amz-security-token").map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    check_host_signed(signed_headers, &scope.access_key_id)?;
    Ok(AuthParams {
        presigned: false,
        scope,
        signed_headers: signed_headers.to_string(),
        signature: signature.to_string(),
        amz_date,
        request_secs,
        expires_secs: None,
        security_token,
    })
}

/// Reads the signature parameters of a presigned request from its decoded query.
pub(crate) fn from_query(query: &[(Cow<'_, str>, Cow<'_, str>)]) -> Result<AuthParams, AuthError> {
    let get = |name: &str| query_param(query, name);
    let key = get("X-Amz-Credential").and_then(split_credential).map(|s| s.access_key_id);
    let names = [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
    ];
    let missing: String = names
        .iter()
        .filter(|n| get(n).is_none())
        .map(|n| format!("AWS query-string parameters must include '{n}'. "))
        .collect();
    if !missing.is_empty() {
        return Err(AuthError::incomplete(
            format!("{missing}Re-examine the query-string parameters."),
            key.as_deref(),
        ));
    }
    let required = |name: &str| get(name).unwrap_or_default();
    let algorithm = required("X-Amz-Algorithm");
    if algorithm != ALGORITHM {
        return Err(unsupported_algorithm(algorithm, key.as_deref()));
    }
    let scope = parse_credential(required("X-Amz-Credential"))
        .map_err(|m| AuthError::incomplete(m, key.as_deref()))?;
    let akid = scope.access_key_id.as_str();
    let date = required("X-Amz-Date");
    let (request_secs, amz_date) = parse_request_date(date, true).ok_or_else(|| bad_date(date, akid))?;
    let expires = required("X-Amz-Expires");
    let expires_secs = match expires.parse::<u64>() {
        Ok(n) if n > MAX_EXPIRES => {
            return Err(AuthError::incomplete(
                format!(
                    "X-Amz-Expires must be less than a week (in seconds) that is {MAX_EXPIRES}, not '{n}'."
                ),
                Some(akid),
            ))
        }
        Ok(n) if n >= 1 => n,
        _ => {
            return Err(AuthError::incomplete(
                format!(
                    "X-Amz-Expires must be a whole number of seconds from 1 to {MAX_EXPIRES}, not '{}'.",
                    shorten(expires, 32)
                ),
                Some(akid),
            ))
        }
    };
    let signed_headers = required("X-Amz-SignedHeaders");
    check_host_signed(signed_headers, akid)?;
    Ok(AuthParams {
        presigned: true,
        signed_headers: signed_headers.to_string(),
        signature: required("X-Amz-Signature").to_string(),
        amz_date,
        request_secs,
        expires_secs: Some(expires_secs),
        security_token: get("X-Amz-Security-Token").map(str::to_string),
        scope,
    })
}

fn unsupported_algorithm(algorithm: &str, key: Option<&str>) -> AuthError {
    let shown = shorten(algorithm, 64);
    AuthError::incomplete(
        format!("Unsupported AWS 'algorithm': '{shown}'. The only supported algorithm is '{ALGORITHM}'."),
        key,
    )
}

fn bad_date(date: &str, key: &str) -> AuthError {
    let shown = shorten(date, 64);
    AuthError::incomplete(
        format!("Date must be in ISO-8601 'basic format'. Got '{shown}'. See http://docs.aws.amazon.com/general/latest/gr/sigv4-date-handling.html"),
        Some(key),
    )
}

/// `text` cut to at most `max` characters, with `...` when cut.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}

fn check_host_signed(signed_headers: &str, key: &str) -> Result<(), AuthError> {
    if signed_headers.split(';').any(|h| h.trim().eq_ignore_ascii_case("host")) {
        Ok(())
    } else {
        Err(AuthError::incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
            Some(key),
        ))
    }
}

/// Parses `AKID/yyyymmdd/region/service/aws4_request`. The access key id is everything before
/// the last four components. On error, returns the AWS-style message.
pub(crate) fn parse_credential(credential: &str) -> Result<CredentialScope, String> {
    let mut it = credential.rsplitn(5, '/');
    let terminator = it.next().unwrap_or_default();
    let (Some(service), Some(region), Some(date), Some(key)) = (it.next(), it.next(), it.next(), it.next())
    else {
        return Err(format!(
            "Credential should be of the form '<access key id>/<yyyymmdd>/<region>/<service>/{TERMINATOR}', not '{}'.",
            shorten(credential, 256)
        ));
    };
    if terminator != TERMINATOR {
        let shown = shorten(terminator, 64);
        return Err(format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{shown}'."
        ));
    }
    if key.is_empty() {
        return Err("Credential should name a non-empty access key id.".to_string());
    }
    if region.is_empty() {
        return Err("Credential should be scoped to a valid region, not ''.".to_string());
    }
    if service.is_empty() {
        return Err("Credential should be scoped to a valid service, not ''.".to_string());
    }
    Ok(CredentialScope {
        access_key_id: key.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
    })
}

/// Splits a credential into its scope without validating it: the access key id is everything
/// before the last four `/`-separated parts, which must exist; the key must not be empty.
pub(crate) fn split_credential(credential: &str) -> Option<CredentialScope> {
    let mut it = credential.rsplitn(5, '/');
    let _terminator = it.next()?;
    let (service, region, date, key) = (it.next()?, it.next()?, it.next()?, it.next()?);
    (!key.is_empty()).then(|| CredentialScope {
        access_key_id: key.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
    })
}

/// The `Credential=` value of an `Authorization` header, without validation.
pub(crate) fn header_credential(raw: &str) -> Option<&str> {
    raw.split([',', ' ', '\t']).find_map(|part| part.trim().strip_prefix("Credential=")).map(str::trim)
}

/// Reads the request time: `X-Amz-Date` must be in ISO 8601 basic format
/// (`20260101T000000Z`); a `Date` header may also be an RFC 7231 IMF-fixdate
/// (`Thu, 01 Jan 2026 00:00:00 GMT`). Returns seconds since the epoch and the basic-format text
/// used in the string to sign.
pub(crate) fn parse_request_date(value: &str, amz_header: bool) -> Option<(i64, String)> {
    if let Some(secs) = parse_basic(value) {
        return Some((secs, value.to_string()));
    }
    if amz_header {
        return None;
    }
    let secs = parse_imf_fixdate(value.trim())?;
    Some((secs, format_basic(secs)))
}

/// `YYYYMMDD'T'HHMMSS'Z'` → seconds since the epoch.
pub(crate) fn parse_basic(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(range)?;
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    civil_to_secs(num(0..4)?, num(4..6)?, num(6..8)?, num(9..11)?, num(11..13)?, num(13..15)?)
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` → seconds since the epoch.
fn parse_imf_fixdate(s: &str) -> Option<i64> {
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let mut it = s.split_ascii_whitespace();
    let (_weekday, day, month, year, time, zone) =
        (it.next()?, it.next()?, it.next()?, it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || zone != "GMT" {
        return None;
    }
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let digits = |t: &str| -> Option<i64> { t.bytes().all(|c| c.is_ascii_digit()).then(|| t.parse().ok())? };
    let mut hms = time.split(':');
    let (h, m, sec) = (digits(hms.next()?)?, digits(hms.next()?)?, digits(hms.next()?)?);
    if hms.next().is_some() || year.len() != 4 || day.len() != 2 {
        return None;
    }
    civil_to_secs(digits(year)?, month, digits(day)?, h, m, sec)
}

fn civil_to_secs(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<i64> {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&mo) || d < 1 || d > month_days[(mo - 1) as usize] || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    // Days from civil (H. Hinnant), March-based year.
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3_600 + mi * 60 + s)
}

/// Seconds since the epoch → `YYYYMMDD'T'HHMMSS'Z'`.
pub(crate) fn format_basic(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", rem / 3_600, rem % 3_600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use watchtrail_core::Timestamp;

    #[test]
    fn basic_dates_round_trip() {
        for (text, iso) in [
            ("20260101T000000Z", "2026-01-01T00:00:00Z"),
            ("20240229T235959Z", "2024-02-29T23:59:59Z"),
            ("19700101T000000Z", "1970-01-01T00:00:00Z"),
            ("20000301T120000Z", "2000-03-01T12:00:00Z"),
        ] {
            let secs = parse_basic(text).unwrap();
            assert_eq!(Timestamp::from_secs(secs), Timestamp::parse(iso).unwrap(), "{text}");
            assert_eq!(format_basic(secs), text);
        }
        for bad in [
            "20230229T000000Z",
            "20261301T000000Z",
            "20260101T240000Z",
            "2026-01-01T00:00:00Z",
            "20260101T00000aZ",
            "+0260101T000000Z",
            "",
        ] {
            assert_eq!(parse_basic(bad), None, "{bad}");
        }
    }

    #[test]
    fn http_dates() {
        let (secs, basic) = parse_request_date("Thu, 01 Jan 2026 00:15:00 GMT", false).unwrap();
        assert_eq!(basic, "20260101T001500Z");
        assert_eq!(secs, parse_basic("20260101T001500Z").unwrap());
        assert_eq!(parse_request_date("Thu, 01 Jan 2026 00:15:00 GMT", true), None);
        assert_eq!(parse_request_date("Thu, 01 Jan 2026 00:15:00 PST", false), None);
    }

    #[test]
    fn credentials() {
        let s = parse_credential("AKID/20260101/us-east-1/monitoring/aws4_request").unwrap();
        assert_eq!(
            (s.access_key_id.as_str(), s.date.as_str(), s.region.as_str(), s.service.as_str()),
            ("AKID", "20260101", "us-east-1", "monitoring")
        );
        assert!(parse_credential("AKID/20260101/us-east-1/monitoring/aws4_reques")
            .unwrap_err()
            .contains("terminator"));
        assert!(parse_credential("AKID/20260101/us-east-1").is_err());
        assert!(parse_credential("/20260101/us-east-1/logs/aws4_request").is_err());
        assert!(parse_credential("AKID/20260101//logs/aws4_request").is_err());
    }

    #[test]
    fn header_credential_is_found_anywhere() {
        assert_eq!(
            header_credential("AWS4-HMAC-SHA256 Credential=A/b/c/d/aws4_request, SignedHeaders=host"),
            Some("A/b/c/d/aws4_request")
        );
        assert_eq!(
            header_credential("AWS4-HMAC-SHA256 SignedHeaders=host,Credential=X/1/2/3/4"),
            Some("X/1/2/3/4")
        );
        assert_eq!(header_credential("Bearer abc"), None);
    }
}
