//! The request line as the scoreboard shows it (`GET /x HTTP/1.1`), built once per
//! request on every strategy's path: plain pushes into one right-sized `String`, because
//! `format!` was a measurable share of a keep-alive request's instructions (callgrind).

use super::ConnObserver;
use http::{Method, Request, Uri, Version};
use std::borrow::Cow;

/// `METHOD target VERSION`, e.g. `GET /x?y HTTP/1.1`.
pub fn request_line(method: &Method, target: &str, version: Version) -> String {
    let v = version_text(version);
    let mut line = String::with_capacity(method.as_str().len() + target.len() + v.len() + 2);
    line.push_str(method.as_str());
    line.push(' ');
    line.push_str(target);
    line.push(' ');
    line.push_str(v);
    line
}

/// A target as the scoreboard shows it: the path and query (`/` when the URI has none).
pub(crate) fn origin_target(uri: &Uri) -> &str {
    uri.path_and_query().map_or("/", |p| p.as_str())
}

/// The target of `req` as the client sent it: origin form as it is, an absolute-form (or
/// authority-form) target in full.
fn target_of<B>(req: &Request<B>) -> Cow<'_, str> {
    let uri = req.uri();
    match (uri.scheme(), uri.path_and_query()) {
        (None, Some(p)) => Cow::Borrowed(p.as_str()),
        _ => Cow::Owned(uri.to_string()),
    }
}

/// Tell `observer` that `req` arrived ([`ConnObserver::request_head`]).
pub fn observe_request<B>(observer: &(impl ConnObserver + ?Sized), req: &Request<B>) {
    observer.request_head(req.method(), &target_of(req), req.version());
}

/// `HTTP/1.1` and the like, as `Version`'s `Debug` writes it.
pub(crate) fn version_text(v: Version) -> &'static str {
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_11 => "HTTP/1.1",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_matches_the_formatted_one() {
        for v in [
            Version::HTTP_09,
            Version::HTTP_10,
            Version::HTTP_11,
            Version::HTTP_2,
            Version::HTTP_3,
        ] {
            for uri in ["/", "/a/b?c=d", "*", "http://user@example.com/x?y"] {
                let req = Request::builder()
                    .method(Method::PATCH)
                    .uri(uri)
                    .version(v)
                    .body(())
                    .unwrap();
                let expected = format!("{} {} {:?}", req.method(), req.uri(), req.version());
                let line = request_line(req.method(), &target_of(&req), req.version());
                assert_eq!(line, expected, "{uri} {v:?}");
            }
        }
    }
}
