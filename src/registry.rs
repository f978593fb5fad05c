//! The strategies a program can choose among at run time: those compiled in, plus any the
//! program adds (a strategy written outside this workspace), looked up by name as
//! Apache's `--mpm`/`Mpm` would.

use mpm_core::{Mpm, MpmKind};

/// An ordered set of strategies, first = default.
///
/// ```
/// let mut strategies = mpm::Registry::compiled_in();
/// assert_eq!(strategies.names()[0], mpm::default_kind().name());
/// assert!(strategies.take("no-such-mpm").is_none());
/// ```
pub struct Registry {
    strategies: Vec<Box<dyn Mpm>>,
}

impl Registry {
    /// The strategies this build's features enabled, in Apache's default priority
    /// (event > worker > prefork).
    // One push per feature: a `vec![]` literal cannot hold cfg-gated elements.
    #[allow(clippy::vec_init_then_push)]
    pub fn compiled_in() -> Registry {
        #[allow(unused_mut)]
        let mut strategies: Vec<Box<dyn Mpm>> = Vec::new();
        #[cfg(feature = "event")]
        strategies.push(Box::new(mpm_event::EventMpm));
        #[cfg(feature = "worker")]
        strategies.push(Box::new(mpm_worker::WorkerMpm));
        #[cfg(feature = "prefork")]
        strategies.push(Box::new(mpm_prefork::PreforkMpm));
        Registry { strategies }
    }

    /// No strategy at all (fill it with [`Registry::with`]).
    pub fn empty() -> Registry {
        Registry {
            strategies: Vec::new(),
        }
    }

    /// Add a strategy after those already present (it does not become the default). A
    /// strategy with the name of one already present replaces it in place.
    pub fn with(mut self, strategy: Box<dyn Mpm>) -> Registry {
        let name = strategy.kind().name();
        match self.strategies.iter().position(|s| s.kind().name() == name) {
            Some(i) => self.strategies[i] = strategy,
            None => self.strategies.push(strategy),
        }
        self
    }

    /// The labels, default first.
    pub fn kinds(&self) -> Vec<MpmKind> {
        self.strategies.iter().map(|s| s.kind()).collect()
    }

    /// The names, default first (what `httpd -V` lists as `MPM_COMPILED_IN`).
    pub fn names(&self) -> Vec<&'static str> {
        self.strategies.iter().map(|s| s.kind().name()).collect()
    }

    /// The label named `name` (case-insensitive; Apache's module name works too).
    pub fn kind(&self, name: &str) -> Option<MpmKind> {
        self.strategies.iter().map(|s| s.kind()).find(|k| {
            name.eq_ignore_ascii_case(k.name()) || name.eq_ignore_ascii_case(k.module_name())
        })
    }

    /// Remove and return the strategy named `name`, to hand to [`crate::Server::new`].
    pub fn take(&mut self, name: &str) -> Option<Box<dyn Mpm>> {
        let kind = self.kind(name)?;
        let i = self.strategies.iter().position(|s| s.kind() == kind)?;
        Some(self.strategies.remove(i))
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}
