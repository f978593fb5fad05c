//! The HTML status page of a real server: its header agrees with the page on UTF-8, the
//! async columns are event's only, Apache's CPU line is there — and it renders in a real
//! browser (headless Chromium, Debian package `chromium`; `docs/status-page.sh` takes the
//! screenshot in `docs/`).

mod common;

use common::{client, tools, wait_until, Server};
use std::process::{Command, Stdio};
use std::time::Duration;

const SMALL: &str = "StartServers 1\nServerLimit 2\nThreadLimit 4\nThreadsPerChild 4\nMinSpareThreads 1\nMaxSpareThreads 8\nMaxRequestWorkers 8";
const SMALL_PREFORK: &str =
    "StartServers 1\nMinSpareServers 1\nMaxSpareServers 2\nMaxRequestWorkers 4";

#[test]
fn html_page_header_columns_and_cpu_line_per_strategy() {
    for mpm in ["prefork", "worker", "event"] {
        let s = Server::start(
            mpm,
            if mpm == "prefork" {
                SMALL_PREFORK
            } else {
                SMALL
            },
        );
        assert_eq!(client::get(s.addr, "/").unwrap().status, 200);
        let r = client::get(s.addr, "/server-status").unwrap();
        assert_eq!(r.status, 200, "{mpm}");
        assert_eq!(
            r.header("content-type"),
            Some("text/html; charset=utf-8"),
            "{mpm}"
        );
        let html = r.body_text();
        assert!(html.contains("<meta charset=\"utf-8\">"), "{mpm}");
        assert!(html.contains("<dt>CPU Usage</dt><dd>u"), "{mpm}:\n{html}");
        assert!(html.contains("% CPU load</dd>"), "{mpm}:\n{html}");
        assert_eq!(html.contains("Async connections"), mpm == "event", "{mpm}");
        assert!(!html.contains("<th>VHost</th>"), "{mpm}");
    }
}

#[test]
fn html_page_renders_in_headless_chromium() {
    let test = "html_page_renders_in_headless_chromium";
    if !tools::require(test, "chromium", "--version", "chromium") {
        return;
    }
    let s = Server::start("worker", SMALL);
    assert_eq!(client::get(s.addr, "/").unwrap().status, 200);
    let profile = tempfile::tempdir().unwrap();
    let out_path = profile.path().join("dom.html");
    let url = format!("http://{}/server-status", s.addr);
    let mut browser = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            &format!("--user-data-dir={}", profile.path().display()),
            "--dump-dom",
            &url,
        ])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn chromium");
    let mut status = None;
    let done = wait_until(Duration::from_secs(60), || {
        status = browser.try_wait().ok().flatten();
        status.is_some()
    });
    if !done {
        let _ = browser.kill();
        let _ = browser.wait();
    }
    assert!(done, "chromium did not finish within 60 s");
    let dom = std::fs::read_to_string(&out_path).unwrap_or_default();
    assert!(
        status.is_some_and(|s| s.success()),
        "chromium: {status:?}\n{dom}"
    );
    // The browser parsed what we sent: title, summary, scoreboard, the processes table
    // with worker's columns only, each row as wide as its header.
    assert!(dom.contains("<h1>Server Status for 127.0.0.1:"), "{dom}");
    assert!(dom.contains("<dt>CPU Usage</dt>"), "{dom}");
    assert!(dom.contains("<pre class=\"scoreboard\">"), "{dom}");
    assert!(!dom.contains("Async connections"), "{dom}");
    let rows: Vec<&str> = dom
        .split("<table class=\"processes\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap_or_default()
        .split("<tr>")
        .filter(|r| r.contains("<td>"))
        .collect();
    assert!(!rows.is_empty(), "{dom}");
    for row in rows {
        assert_eq!(row.matches("<td>").count(), 7, "{row}");
    }
}
