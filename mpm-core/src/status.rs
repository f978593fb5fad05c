//! Status output: Apache's `server-status?auto`, JSON and HTML, rendered from a snapshot.
//!
//! STUB: the scoreboard helper owns this file.
