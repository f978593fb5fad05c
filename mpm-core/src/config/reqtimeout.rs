//! `RequestReadTimeout`, in mod_reqtimeout's syntax: `header=20-40,MinRate=500 body=20,MinRate=500`.
//!
//! Each argument names a stage (`header` or `body`) and sets its initial timeout in seconds,
//! optionally a maximum (`T-MAX`, which requires `MinRate`) and optionally `,MinRate=R`: each
//! `R` bytes received extend the stage's deadline by one second, up to the maximum (no
//! maximum: no cap). `T = 0` disables the stage. `handshake=…` (TLS) is accepted with a
//! notice: the TLS handshake runs under the header deadline. A stage not named keeps its default; when the directive is
//! repeated, each stage takes its last setting.

use serde::{Deserialize, Serialize};

/// The deadline of one stage of reading a request (head or body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct StageTimeout {
    /// Initial timeout in seconds; 0 disables the stage.
    pub timeout: u32,
    /// Largest timeout in seconds the rate may extend it to; `None` = no cap.
    #[serde(default)]
    pub max: Option<u32>,
    /// Bytes per second that extend the deadline by one second each; 0 = no extension.
    #[serde(default)]
    pub min_rate: u32,
}

impl StageTimeout {
    /// mod_reqtimeout's default for the head: `header=20-40,MinRate=500`.
    pub const HEADER_DEFAULT: StageTimeout = StageTimeout {
        timeout: 20,
        max: Some(40),
        min_rate: 500,
    };
    /// mod_reqtimeout's default for the body: `body=20,MinRate=500`.
    pub const BODY_DEFAULT: StageTimeout = StageTimeout {
        timeout: 20,
        max: None,
        min_rate: 500,
    };

    /// Check the invariants mod_reqtimeout checks (for values from serde or code).
    pub fn check(&self) -> Result<(), String> {
        if let Some(max) = self.max {
            if self.min_rate == 0 {
                return Err("Must set MinRate option if using timeout range".to_string());
            }
            if self.timeout > 0 && max < self.timeout {
                return Err(format!(
                    "Maximum timeout {max} must not be smaller than the initial timeout {}",
                    self.timeout
                ));
            }
        }
        Ok(())
    }

    /// As written in the directive, e.g. `20-40,MinRate=500` (`0` when disabled).
    pub fn display(&self) -> String {
        if self.timeout == 0 {
            return "0".to_string();
        }
        let mut s = self.timeout.to_string();
        if let Some(max) = self.max {
            s.push_str(&format!("-{max}"));
        }
        if self.min_rate > 0 {
            s.push_str(&format!(",MinRate={}", self.min_rate));
        }
        s
    }
}

/// What `RequestReadTimeout` lines set (a stage left `None` keeps its default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase", deny_unknown_fields)]
pub struct ReadTimeouts {
    /// The request line and header fields.
    pub header: Option<StageTimeout>,
    /// The request body.
    pub body: Option<StageTimeout>,
}

/// The effective stages after defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EffectiveReadTimeouts {
    /// The head's deadline.
    pub header: StageTimeout,
    /// The body's deadline.
    pub body: StageTimeout,
}

impl Default for EffectiveReadTimeouts {
    fn default() -> Self {
        EffectiveReadTimeouts {
            header: StageTimeout::HEADER_DEFAULT,
            body: StageTimeout::BODY_DEFAULT,
        }
    }
}

impl ReadTimeouts {
    /// Fill unset stages with mod_reqtimeout's defaults.
    pub fn effective(&self) -> EffectiveReadTimeouts {
        EffectiveReadTimeouts {
            header: self.header.unwrap_or(StageTimeout::HEADER_DEFAULT),
            body: self.body.unwrap_or(StageTimeout::BODY_DEFAULT),
        }
    }

    /// Check both stages; errors name the stage.
    pub fn check(&self) -> Result<(), String> {
        for (name, stage) in [("header", &self.header), ("body", &self.body)] {
            if let Some(s) = stage {
                s.check().map_err(|e| format!("{name}: {e}"))?;
            }
        }
        Ok(())
    }
}

/// Which stage an argument set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `header=…`
    Header,
    /// `body=…`
    Body,
    /// `handshake=…` (accepted, no effect: there is no TLS).
    Handshake,
}

fn number(what: &str, s: &str) -> Result<u32, String> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{what} '{s}' is not a whole number of seconds or bytes"
        ));
    }
    s.parse::<u32>()
        .ok()
        .filter(|v| i32::try_from(*v).is_ok())
        .ok_or_else(|| format!("{what} '{s}' is too large (at most {})", i32::MAX))
}

/// Parse one argument, e.g. `header=20-40,MinRate=500` (names case-insensitive).
pub fn parse_arg(arg: &str) -> Result<(Stage, StageTimeout), String> {
    let Some((key, value)) = arg.split_once('=') else {
        return Err(format!(
            "'{arg}' is not of the form stage=timeout[-max][,MinRate=rate] (stage: header or body)"
        ));
    };
    let stage = if key.eq_ignore_ascii_case("header") {
        Stage::Header
    } else if key.eq_ignore_ascii_case("body") {
        Stage::Body
    } else if key.eq_ignore_ascii_case("handshake") {
        Stage::Handshake
    } else {
        return Err(format!(
            "unknown RequestReadTimeout stage '{key}' (expected header, body or handshake)"
        ));
    };
    let mut parts = value.split(',');
    let times = parts.next().unwrap_or_default();
    let (timeout, max) = match times.split_once('-') {
        Some((t, m)) => (number("timeout", t)?, Some(number("maximum timeout", m)?)),
        None => (number("timeout", times)?, None),
    };
    let mut min_rate = 0;
    for opt in parts {
        let Some((k, v)) = opt.split_once('=') else {
            return Err(format!("'{opt}' is not of the form MinRate=rate"));
        };
        if !k.trim().eq_ignore_ascii_case("MinRate") {
            return Err(format!(
                "unknown RequestReadTimeout option '{k}' (expected MinRate)"
            ));
        }
        min_rate = number("MinRate", v)?;
        if min_rate == 0 {
            return Err("MinRate must be greater than 0".to_string());
        }
    }
    let stage_timeout = StageTimeout {
        timeout,
        max,
        min_rate,
    };
    stage_timeout.check()?;
    Ok((stage, stage_timeout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_defaults() {
        assert_eq!(
            parse_arg("header=20-40,MinRate=500").unwrap(),
            (Stage::Header, StageTimeout::HEADER_DEFAULT)
        );
        assert_eq!(
            parse_arg("BODY=20,minrate=500").unwrap(),
            (Stage::Body, StageTimeout::BODY_DEFAULT)
        );
        assert_eq!(parse_arg("header=0").unwrap().1.timeout, 0);
        assert_eq!(StageTimeout::HEADER_DEFAULT.display(), "20-40,MinRate=500");
    }

    #[test]
    fn rejects_nonsense() {
        for bad in [
            "header",
            "header=",
            "header=a",
            "header=10-20",
            "header=20-10,MinRate=5",
            "header=10,MinRate=0",
            "header=10,Rate=5",
            "tail=10",
            "header=-1",
            "header=99999999999",
        ] {
            assert!(parse_arg(bad).is_err(), "{bad}");
        }
    }
}
