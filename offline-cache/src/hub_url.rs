//! Which hub addresses a terminal may talk to: https, or plain http only to
//! this machine (the demo's local hub, tests). A terminal sends sealed
//! filings either way, but it also takes operator lists, configs and
//! catalogs from the hub; a network attacker must not get to answer.

use std::net::IpAddr;

use crate::error::SyncError;

/// True for `localhost`, 127.0.0.0/8 and ::1.
fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    host.eq_ignore_ascii_case("localhost") || host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok_and(|a| a.is_loopback())
}

/// Parses and checks a hub URL: `https://…`, or `http://` to loopback.
/// `allow_plain_http` lifts the loopback rule for test rigs that put the
/// terminal in its own network namespace; no kiosk setting reaches it.
pub fn check_hub_url(text: &str, allow_plain_http: bool) -> Result<reqwest::Url, SyncError> {
    let url = reqwest::Url::parse(text).map_err(|_| SyncError::BadUrl(text.to_owned()))?;
    if url.host().is_none() || !url.username().is_empty() || url.password().is_some() {
        return Err(SyncError::BadUrl(text.to_owned()));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_plain_http || is_loopback(&url) => Ok(url),
        "http" => Err(SyncError::PlainHttp(text.to_owned())),
        _ => Err(SyncError::BadUrl(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_http_hub_outside_loopback_is_refused() {
        for ok in ["https://hub.gansu.example", "https://10.0.0.1:8443/", "http://127.0.0.1:8700", "http://[::1]:8700", "http://localhost:8700"] {
            assert!(check_hub_url(ok, false).is_ok(), "{ok}");
        }
        for bad in ["http://hub.gansu.example", "http://10.213.0.1:8700", "http://127.0.0.1.evil.example", "http://localhost.evil.example"] {
            assert!(matches!(check_hub_url(bad, false), Err(SyncError::PlainHttp(_))), "{bad}");
        }
        for bad in ["ftp://hub.example", "hub.example", "https://user:pw@hub.example", "file:///etc/passwd"] {
            assert!(matches!(check_hub_url(bad, false), Err(SyncError::BadUrl(_))), "{bad}");
        }
        assert!(check_hub_url("http://10.213.0.1:8700", true).is_ok(), "a test rig's namespace");
    }
}
