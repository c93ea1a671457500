//! The registry's `WWW-Authenticate` challenge and the token it points to.
//!
//! A registry answers 401 with `Basic realm="…"` (htpasswd registries, ECR) or
//! `Bearer realm="https://auth…/token",service="…",scope="repository:x:pull"` (the
//! distribution token flow: Docker Hub, GitLab, Harbor…). For Bearer, the client asks the
//! realm for a token (`GET realm?service=…&scope=…`, with Basic credentials when it has
//! them, or a `POST` of an OAuth2 refresh-token grant when it has an identity token) and
//! sends `Authorization: Bearer <token>`.

use serde::Deserialize;

/// One challenge of a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    /// A scheme this client does not speak.
    Other(String),
}

/// The challenges in one `WWW-Authenticate` value, in order. Parameter values may be
/// quoted strings (with `\` escapes and commas inside) or tokens.
pub fn parse_challenges(value: &str) -> Vec<Challenge> {
    // (scheme, params)
    let mut found: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let bytes: Vec<char> = value.chars().collect();
    let mut i = 0;
    let skip = |i: &mut usize, also_comma: bool| {
        while let Some(c) = bytes.get(*i) {
            if c.is_whitespace() || (also_comma && *c == ',') {
                *i += 1;
            } else {
                break;
            }
        }
    };
    loop {
        skip(&mut i, true);
        let start = i;
        while let Some(c) = bytes.get(i) {
            if c.is_whitespace() || *c == ',' || *c == '=' {
                break;
            }
            i += 1;
        }
        if i == start {
            if i < bytes.len() {
                // A stray `=`: skip it.
                i += 1;
                continue;
            }
            break;
        }
        let token: String = bytes[start..i].iter().collect();
        let mut j = i;
        skip(&mut j, false);
        if bytes.get(j) != Some(&'=') {
            found.push((token, Vec::new()));
            continue;
        }
        i = j + 1;
        skip(&mut i, false);
        let mut value = String::new();
        if bytes.get(i) == Some(&'"') {
            i += 1;
            while let Some(&c) = bytes.get(i) {
                i += 1;
                match c {
                    '"' => break,
                    '\\' => {
                        if let Some(&n) = bytes.get(i) {
                            value.push(n);
                            i += 1;
                        }
                    }
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = bytes.get(i) {
                if c == ',' || c.is_whitespace() {
                    break;
                }
                value.push(c);
                i += 1;
            }
        }
        if let Some((_, params)) = found.last_mut() {
            params.push((token.to_ascii_lowercase(), value));
        }
    }
    found
        .into_iter()
        .map(|(scheme, params)| {
            let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            if scheme.eq_ignore_ascii_case("basic") {
                Challenge::Basic
            } else if scheme.eq_ignore_ascii_case("bearer") {
                match get("realm") {
                    Some(realm) => Challenge::Bearer {
                        realm,
                        service: get("service"),
                        scope: get("scope"),
                    },
                    None => Challenge::Other(scheme),
                }
            } else {
                Challenge::Other(scheme)
            }
        })
        .collect()
}

/// The realm's answer: `token`, or OAuth2's `access_token`.
#[derive(Debug, Deserialize)]
pub struct TokenAnswer {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub access_token: Option<String>,
}

impl TokenAnswer {
    pub fn token(self) -> Option<String> {
        self.token
            .filter(|t| !t.is_empty())
            .or(self.access_token.filter(|t| !t.is_empty()))
    }
}

/// `realm?service=…&scope=…` (appended with `&` when the realm has a query already).
pub fn token_url(realm: &str, service: Option<&str>, scope: Option<&str>) -> String {
    let mut params: Vec<(&str, &str)> = Vec::new();
    if let Some(s) = service {
        params.push(("service", s));
    }
    if let Some(s) = scope {
        params.push(("scope", s));
    }
    let query = serde_urlencoded::to_string(&params).unwrap_or_default();
    if query.is_empty() {
        realm.to_string()
    } else if realm.contains('?') {
        format!("{realm}&{query}")
    } else {
        format!("{realm}?{query}")
    }
}

/// The form of an OAuth2 refresh-token grant (what the docker CLI posts with an identity
/// token).
pub fn refresh_form(service: Option<&str>, scope: Option<&str>, refresh_token: &str) -> String {
    let mut params = vec![
        ("grant_type", "refresh_token"),
        ("client_id", "lambda-image"),
        ("refresh_token", refresh_token),
    ];
    if let Some(s) = service {
        params.push(("service", s));
    }
    if let Some(s) = scope {
        params.push(("scope", s));
    }
    serde_urlencoded::to_string(&params).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_with_quoted_commas() {
        let c = parse_challenges(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(
            c,
            [Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
                scope: Some("repository:a/b:pull,push".into()),
            }]
        );
    }

    #[test]
    fn basic_and_unknown_schemes() {
        assert_eq!(
            parse_challenges(r#"Basic realm="test""#),
            [Challenge::Basic]
        );
        assert_eq!(
            parse_challenges(r#"basic realm=test, Negotiate"#),
            [Challenge::Basic, Challenge::Other("Negotiate".into())]
        );
        assert_eq!(
            parse_challenges("Bearer service=x"),
            [Challenge::Other("Bearer".into())]
        );
        assert!(parse_challenges("").is_empty());
        assert!(parse_challenges(" , = ,").is_empty());
        assert_eq!(
            parse_challenges(r#"Bearer realm="a\"b", scope=x"#),
            [Challenge::Bearer {
                realm: "a\"b".into(),
                service: None,
                scope: Some("x".into())
            }]
        );
    }

    #[test]
    fn token_urls_encode_the_scope() {
        assert_eq!(
            token_url(
                "http://127.0.0.1:1/token",
                Some("reg"),
                Some("repository:a:pull,push")
            ),
            "http://127.0.0.1:1/token?service=reg&scope=repository%3Aa%3Apull%2Cpush"
        );
        assert_eq!(
            token_url("http://x/t?a=1", None, Some("s")),
            "http://x/t?a=1&scope=s"
        );
        assert_eq!(token_url("http://x/t", None, None), "http://x/t");
    }

    #[test]
    fn tokens_from_either_field() {
        let t: TokenAnswer = serde_json::from_str(r#"{"access_token":"a"}"#).expect("json");
        assert_eq!(t.token().as_deref(), Some("a"));
        let t: TokenAnswer =
            serde_json::from_str(r#"{"token":"","access_token":"b"}"#).expect("json");
        assert_eq!(t.token().as_deref(), Some("b"));
        let t: TokenAnswer = serde_json::from_str(r#"{}"#).expect("json");
        assert_eq!(t.token(), None);
    }
}
