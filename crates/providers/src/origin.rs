//! Which addresses a key or a download may go to: https anywhere, plain http only to
//! this machine. URLs are parsed, never prefix-matched (`http://127.0.0.1.evil.com` is
//! another machine).

use std::net::IpAddr;

/// Whether a parsed URL's host is this machine: 127.0.0.0/8, ::1 or `localhost`.
pub fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    }
}

/// Whether a URL is safe to send a key or fetch a result from: https, or http to this
/// machine.
pub fn secure_or_local(url: &reqwest::Url) -> bool {
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => is_loopback(url),
        _ => false,
    }
}

/// A base URL that cannot be used, with the field or variable it came from.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct BaseUrlError {
    /// The Settings field or environment variable, in words.
    pub field: String,
    /// What is wrong with it.
    pub problem: BaseUrlProblem,
}

/// What is wrong with a base URL, and what to give instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BaseUrlProblem {
    /// It does not parse.
    #[error("\"{url}\" is not a URL ({reason}); use e.g. https://proxy.example.com")]
    NotAUrl {
        /// What was given, trimmed.
        url: String,
        /// The parser's words.
        reason: String,
    },
    /// It holds a user name or password.
    #[error(
        "a user name or password in the URL is not allowed (it would be sent to every request's logs); use the key field instead"
    )]
    Credentials,
    /// It holds a query or fragment.
    #[error(
        "a base URL takes no ?query or #fragment; give the address and an optional path prefix"
    )]
    QueryOrFragment,
    /// Plain http to another machine, or another scheme.
    #[error(
        "{scheme} to {host} would send the key in clear text; use https:// (plain http only for this machine: 127.0.0.1, ::1 or localhost)"
    )]
    Insecure {
        /// The scheme given.
        scheme: String,
        /// The host given.
        host: String,
    },
}

/// Checks a base URL from Settings or the environment; `what` names the field or
/// variable in the message. The URL trimmed of a trailing slash when it may be used.
pub fn check_base_url(what: &str, url: &str) -> Result<String, BaseUrlError> {
    let trimmed = url.trim().trim_end_matches('/');
    let fail = |problem| BaseUrlError {
        field: what.to_owned(),
        problem,
    };
    let parsed = reqwest::Url::parse(trimmed).map_err(|e| {
        fail(BaseUrlProblem::NotAUrl {
            url: trimmed.to_owned(),
            reason: e.to_string(),
        })
    })?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(fail(BaseUrlProblem::Credentials));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(fail(BaseUrlProblem::QueryOrFragment));
    }
    if !secure_or_local(&parsed) {
        return Err(fail(BaseUrlProblem::Insecure {
            scheme: parsed.scheme().to_owned(),
            host: parsed.host_str().unwrap_or("").to_owned(),
        }));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> reqwest::Url {
        reqwest::Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn loopback_is_parsed_not_prefix_matched() {
        for ok in [
            "http://127.0.0.1:8080/x",
            "http://127.1.2.3/",
            "http://[::1]:9/",
            "http://localhost/",
            "http://LOCALHOST./",
        ] {
            assert!(is_loopback(&url(ok)), "{ok}");
        }
        for bad in [
            "http://127.0.0.1.evil.com/",
            "http://localhost.evil.com/",
            "http://10.0.0.1/",
            "http://[::2]/",
            "http://evil.com/127.0.0.1",
        ] {
            assert!(!is_loopback(&url(bad)), "{bad}");
        }
    }

    #[test]
    fn base_urls_are_https_or_this_machine() {
        assert_eq!(
            check_base_url("Gemini API base URL", "https://proxy.example/v1/ "),
            Ok("https://proxy.example/v1".to_owned())
        );
        assert!(check_base_url("X", "http://127.0.0.1:9000/proxy").is_ok());
        for bad in [
            "http://some-host",
            "http://127.0.0.1.evil.com",
            "ftp://127.0.0.1",
            "proxy.example",
            "https://user:pw@proxy.example",
            "https://proxy.example/?key=1",
        ] {
            let e = check_base_url("BANANA_STUDIO_GEMINI_BASE_URL", bad).unwrap_err();
            assert_eq!(e.field, "BANANA_STUDIO_GEMINI_BASE_URL", "{bad}");
            assert!(
                e.to_string().starts_with("BANANA_STUDIO_GEMINI_BASE_URL: "),
                "{bad}: {e}"
            );
        }
        let e = check_base_url("V", "http://some-host").unwrap_err();
        assert_eq!(
            e.problem,
            BaseUrlProblem::Insecure {
                scheme: "http".into(),
                host: "some-host".into()
            }
        );
        assert!(e.to_string().contains("clear text"));
        assert_eq!(
            check_base_url("V", "https://u:p@x.example")
                .unwrap_err()
                .problem,
            BaseUrlProblem::Credentials
        );
    }
}
