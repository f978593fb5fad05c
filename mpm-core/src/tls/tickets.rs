//! Session tickets every child can open: the keys live in the scoreboard mapping, made and
//! rotated by the master alone ([`rotate`]); children seal and open tickets with whatever
//! keys the mapping holds at that moment ([`SharedTicketer`]).
//!
//! A ticket is `key name (16) | nonce (12) | ChaCha20-Poly1305(state) with its tag`
//! (RFC 5077 §4 recommends a key name to pick the key; the format is ours, as RFC 8446
//! §4.6.1 leaves it to the server). The current key seals; the current or the previous
//! one opens. The master rotates every [`ROTATION`] and at every restart, so a ticket is
//! accepted for one to two rotation periods, by any child of any generation.

use crate::scoreboard::{Scoreboard, TicketKey};
use ring::aead::{self, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use rustls::server::ProducesTickets;
use std::time::Duration;

/// How often the master makes a new ticket key (the previous one still opens tickets for
/// one more period).
pub const ROTATION: Duration = Duration::from_secs(3600);

const NAME_LEN: usize = 16;

/// Make a new current key and keep the old current one as previous (the master only).
pub(crate) fn rotate(scoreboard: &Scoreboard) -> Result<(), ring::error::Unspecified> {
    let mut key: TicketKey = [0; 48];
    SystemRandom::new().fill(&mut key)?;
    let previous = scoreboard.ticket_keys().map(|(current, _)| current);
    scoreboard.set_ticket_keys(&key, previous.as_ref());
    Ok(())
}

/// rustls' ticket producer over the keys in the scoreboard mapping.
pub(crate) struct SharedTicketer {
    scoreboard: Scoreboard,
    rng: SystemRandom,
}

impl std::fmt::Debug for SharedTicketer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedTicketer")
    }
}

impl SharedTicketer {
    pub(crate) fn new(scoreboard: Scoreboard) -> SharedTicketer {
        SharedTicketer {
            scoreboard,
            rng: SystemRandom::new(),
        }
    }
}

fn aead_key(k: &TicketKey) -> Option<LessSafeKey> {
    UnboundKey::new(&CHACHA20_POLY1305, &k[NAME_LEN..])
        .ok()
        .map(LessSafeKey::new)
}

/// Equal names, compared without an early exit.
fn same_name(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl ProducesTickets for SharedTicketer {
    fn enabled(&self) -> bool {
        true
    }

    fn lifetime(&self) -> u32 {
        u32::try_from(ROTATION.as_secs()).unwrap_or(u32::MAX)
    }

    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        let (current, _) = self.scoreboard.ticket_keys()?;
        let key = aead_key(&current)?;
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).ok()?;
        let mut out = Vec::with_capacity(NAME_LEN + NONCE_LEN + plain.len() + 16);
        out.extend_from_slice(&current[..NAME_LEN]);
        out.extend_from_slice(&nonce);
        let mut body = plain.to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            aead::Aad::from(&current[..NAME_LEN]),
            &mut body,
        )
        .ok()?;
        out.extend_from_slice(&body);
        Some(out)
    }

    /// Never panics on what a client sends: short or unknown tickets are `None`.
    fn decrypt(&self, cipher: &[u8]) -> Option<Vec<u8>> {
        if cipher.len() < NAME_LEN + NONCE_LEN + 16 {
            return None;
        }
        let (name, rest) = cipher.split_at(NAME_LEN);
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let (current, previous) = self.scoreboard.ticket_keys()?;
        let k = [Some(current), previous]
            .into_iter()
            .flatten()
            .find(|k| same_name(&k[..NAME_LEN], name))?;
        let key = aead_key(&k)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = sealed.to_vec();
        let plain = key
            .open_in_place(nonce, aead::Aad::from(name), &mut buf)
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::MpmKind;

    #[test]
    fn seal_open_rotate() {
        let sb = Scoreboard::create(MpmKind::Prefork, 1, 1).unwrap();
        let t = SharedTicketer::new(sb.clone());
        assert!(t.encrypt(b"x").is_none(), "no key yet");
        rotate(&sb).unwrap();
        let a = t.encrypt(b"state one").unwrap();
        assert_eq!(t.decrypt(&a).unwrap(), b"state one");
        rotate(&sb).unwrap();
        assert_eq!(t.decrypt(&a).unwrap(), b"state one", "previous key opens");
        let b = t.encrypt(b"two").unwrap();
        rotate(&sb).unwrap();
        assert!(t.decrypt(&a).is_none(), "two rotations later: refused");
        assert_eq!(t.decrypt(&b).unwrap(), b"two");
        let mut bad = b.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(t.decrypt(&bad).is_none());
        assert!(t.decrypt(&b[..20]).is_none());
        assert!(t.decrypt(&[]).is_none());
    }
}
