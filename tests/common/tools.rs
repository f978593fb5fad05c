//! External tools and privileges a test needs. Without them a test is skipped with a
//! printed notice, except under `CI=true`, where the missing tool fails the test: CI
//! installs everything the suite uses, so a skip there would hide a broken check.

use std::process::{Command, Stdio};

/// Whether CI=true (CI must check everything, never skip).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Skip (return false, with a notice) or, under CI=true, fail because of `why`.
pub fn skip_or_fail(test: &str, why: &str) -> bool {
    assert!(!in_ci(), "{test}: {why}, and CI=true requires it");
    eprintln!("skipped {test}: {why} (under CI=true this fails)");
    false
}

/// Whether `program` runs (`program probe_arg`); if not, skip or fail as above, naming
/// the Debian `package` that provides it.
pub fn require(test: &str, program: &str, probe_arg: &str, package: &str) -> bool {
    let runs = Command::new(program)
        .arg(probe_arg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    runs || skip_or_fail(
        test,
        &format!("{program} is not installed (Debian package {package})"),
    )
}

/// Whether this process runs as root; if not, skip or fail as above.
pub fn require_root(test: &str) -> bool {
    nix::unistd::geteuid().is_root() || skip_or_fail(test, "needs root")
}
