//! What the server reads from a request's SigV4 signature: the region and the access key.
//!
//! Signatures are not verified: any well-formed signature is accepted. Verifying would need
//! a configured secret per access key; until then the signature only names the region that
//! scopes the request's queues and the sender reported in `SenderId`.

use http::HeaderMap;

/// The parts of a signature's credential scope that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Credential {
    pub(crate) access_key: String,
    pub(crate) region: String,
}

/// Reads `Credential=AKID/DATE/REGION/SERVICE/aws4_request` from the `Authorization` header,
/// or from `X-Amz-Credential` in a presigned query string.
pub(crate) fn credential(headers: &HeaderMap, query: Option<&str>) -> Option<Credential> {
    let from_header = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.strip_prefix("AWS4-HMAC-SHA256"))
        .and_then(|rest| {
            rest.split(',')
                .map(str::trim)
                .find_map(|part| part.strip_prefix("Credential="))
                .map(str::to_owned)
        });
    let from_query = || {
        query?.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            (key == "X-Amz-Credential").then(|| percent_decode(value))
        })
    };
    let scope = from_header.or_else(from_query)?;
    let mut parts = scope.split('/');
    let access_key = parts.next().filter(|k| !k.is_empty())?.to_owned();
    let _date = parts.next()?;
    let region = parts.next().filter(|r| !r.is_empty())?.to_owned();
    Some(Credential { access_key, region })
}

/// Decodes `%XX` escapes (and `+` as space), as in form-encoded text.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_region_and_key_from_authorization_header() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/eu-west-1/sqs/aws4_request, SignedHeaders=host, Signature=abc"
                .parse()
                .unwrap(),
        );
        let found = credential(&headers, None).unwrap();
        assert_eq!(found.region, "eu-west-1");
        assert_eq!(found.access_key, "AKIDEXAMPLE");
    }

    #[test]
    fn reads_presigned_query_and_refuses_unsigned() {
        let query =
            "Action=ListQueues&X-Amz-Credential=KEY%2F20260101%2Fus-east-2%2Fsqs%2Faws4_request";
        let found = credential(&HeaderMap::new(), Some(query)).unwrap();
        assert_eq!(found.region, "us-east-2");
        assert_eq!(credential(&HeaderMap::new(), None), None);
    }

    #[test]
    fn percent_decoding_keeps_malformed_escapes() {
        assert_eq!(percent_decode("a%20b+c"), "a b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
