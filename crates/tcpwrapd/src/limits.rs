//! Limits that punish only the offender: simultaneous connections and new
//! connections per minute, per source and per service. Sources are checked
//! first, so a source over its limit is refused without using any of the
//! service's allowance: the service keeps serving everyone else.
//!
//! Rates are token buckets (capacity N, refilled at N per minute), so the
//! state of a source is a few bytes whatever its traffic; idle sources are
//! forgotten, and the number of sources tracked is bounded.
//!
//! What a source is admitted within its own limits still counts against
//! its service. So that an offender (a source a per-source limit refused
//! within the last [`OFFENDER_MEMORY`], or refused as an offender since)
//! cannot use up the service's
//! allowance for everyone else, the second half of the service's rate and
//! of its concurrency is kept for the other sources: an offender is
//! admitted only while the service has more than half of its rate left and
//! fewer than half of its connections in use.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::config::{Limits, Service};

/// Sources tracked at most (state is a few dozen bytes each).
pub const MAX_SOURCES: usize = 100_000;

/// A source: its address reduced to the configured prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Source(IpAddr);

impl Source {
    /// The source of a client address (IPv4-mapped IPv6 counts as IPv4).
    pub fn of(ip: IpAddr, prefix_v4: u8, prefix_v6: u8) -> Source {
        let ip = match ip {
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(a),
            },
            v4 => v4,
        };
        Source(match ip {
            IpAddr::V4(a) => {
                let bits = u32::from(a);
                let mask = if prefix_v4 == 0 {
                    0
                } else {
                    u32::MAX << (32 - prefix_v4.min(32) as u32)
                };
                IpAddr::V4((bits & mask).into())
            }
            IpAddr::V6(a) => {
                let bits = u128::from(a);
                let mask = if prefix_v6 == 0 {
                    0
                } else {
                    u128::MAX << (128 - prefix_v6.min(128) as u32)
                };
                IpAddr::V6((bits & mask).into())
            }
        })
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Which limit refused a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    SourceMax(u32),
    SourceRate(u32),
    ServiceMax(u32),
    ServiceRate(u32),
    /// Too many sources tracked at once.
    Sources,
    /// An offender, while the service's rate is more than half used.
    ReserveRate(u32),
    /// An offender, while half of the service's connections are in use.
    ReserveMax(u32),
}

impl Refusal {
    /// How the limit appears in log records.
    pub fn describe(self) -> String {
        match self {
            Refusal::SourceMax(n) => format!("per-source limit of {n} simultaneous connections"),
            Refusal::SourceRate(n) => format!("per-source limit of {n} connections per minute"),
            Refusal::ServiceMax(n) => format!("service limit of {n} simultaneous connections"),
            Refusal::ServiceRate(n) => format!("service limit of {n} connections per minute"),
            Refusal::Sources => format!("{MAX_SOURCES} sources tracked at once"),
            Refusal::ReserveRate(n) => format!(
                "service limit of {n} connections per minute, the second half kept for sources within their own limits"
            ),
            Refusal::ReserveMax(n) => format!(
                "service limit of {n} simultaneous connections, the second half kept for sources within their own limits"
            ),
        }
    }

    /// A short key for counters and JSON.
    pub fn key(self) -> &'static str {
        match self {
            Refusal::SourceMax(_) => "per-source-max",
            Refusal::SourceRate(_) => "per-source-rate",
            Refusal::ServiceMax(_) => "service-max",
            Refusal::ServiceRate(_) => "service-rate",
            Refusal::Sources => "sources",
            Refusal::ReserveRate(_) => "service-rate-reserve",
            Refusal::ReserveMax(_) => "service-max-reserve",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(now: Instant, per_minute: u32) -> Bucket {
        Bucket {
            tokens: f64::from(per_minute),
            last: now,
        }
    }

    fn refill(&mut self, now: Instant, per_minute: u32) {
        let cap = f64::from(per_minute);
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + dt * cap / 60.0).min(cap);
        self.last = now;
    }

    fn full(&self, now: Instant, per_minute: u32) -> bool {
        let mut b = *self;
        b.refill(now, per_minute);
        b.tokens >= f64::from(per_minute)
    }
}

#[derive(Debug)]
struct SourceState {
    active: u32,
    bucket: Bucket,
    /// Refusals since the last logged one, and when that was.
    unlogged: u64,
    last_log: Option<Instant>,
    /// When a per-source limit last refused this source.
    offended: Option<Instant>,
}

#[derive(Debug)]
struct ServiceState {
    active: u32,
    bucket: Bucket,
}

/// What a service's limits cost: release it when the connection ends.
#[derive(Debug, PartialEq, Eq)]
pub struct Ticket {
    service: String,
    source: Option<Source>,
}

/// Whether (and how) to log a limit refusal: the first of a burst is
/// logged, then at most one record per source and service every
/// [`LOG_INTERVAL`], carrying the count of those not logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogIt {
    Yes { unlogged: u64 },
    No,
}

/// Limit records per source and service, at most one per interval.
pub const LOG_INTERVAL: Duration = Duration::from_secs(10);

/// How long a source refused by a per-source limit counts as an offender
/// (see the module's documentation).
pub const OFFENDER_MEMORY: Duration = Duration::from_secs(60);

/// The limiter.
#[derive(Debug, Default)]
pub struct Limiter {
    services: HashMap<String, ServiceState>,
    sources: HashMap<(String, Source), SourceState>,
}

impl Limiter {
    pub fn new() -> Limiter {
        Limiter::default()
    }

    /// Admit a connection from `source` (None: not counted per source, as a
    /// `wait` stream service whose clients tcpwrapd never sees) or say
    /// which limit refuses it.
    pub fn admit(
        &mut self,
        svc: &Service,
        source: Option<Source>,
        now: Instant,
    ) -> Result<Ticket, (Refusal, LogIt)> {
        let l: Limits = svc.limits;
        let mut offender = false;
        if let Some(src) = source {
            let key = (svc.label.clone(), src);
            if !self.sources.contains_key(&key) && self.sources.len() >= MAX_SOURCES {
                self.collect(now);
                if self.sources.len() >= MAX_SOURCES {
                    return Err((Refusal::Sources, LogIt::Yes { unlogged: 0 }));
                }
            }
            let st = self.sources.entry(key).or_insert_with(|| SourceState {
                active: 0,
                bucket: Bucket::new(now, l.per_source_rate),
                unlogged: 0,
                last_log: None,
                offended: None,
            });
            st.bucket.refill(now, l.per_source_rate);
            let refusal = if l.per_source_max > 0 && st.active >= l.per_source_max {
                Some(Refusal::SourceMax(l.per_source_max))
            } else if l.per_source_rate > 0 && st.bucket.tokens < 1.0 {
                Some(Refusal::SourceRate(l.per_source_rate))
            } else {
                None
            };
            if let Some(r) = refusal {
                st.offended = Some(now);
                return Err((r, Self::log_decision(st, now)));
            }
            offender = st
                .offended
                .is_some_and(|t| now.saturating_duration_since(t) < OFFENDER_MEMORY);
        }
        let sv = self
            .services
            .entry(svc.label.clone())
            .or_insert_with(|| ServiceState {
                active: 0,
                bucket: Bucket::new(now, l.service_rate),
            });
        sv.bucket.refill(now, l.service_rate);
        let refusal = if l.service_max > 0 && sv.active >= l.service_max {
            Some(Refusal::ServiceMax(l.service_max))
        } else if l.service_rate > 0 && sv.bucket.tokens < 1.0 {
            Some(Refusal::ServiceRate(l.service_rate))
        } else if offender && l.service_max > 0 && 2 * sv.active >= l.service_max {
            Some(Refusal::ReserveMax(l.service_max))
        } else if offender
            && l.service_rate > 0
            && 2.0 * sv.bucket.tokens < f64::from(l.service_rate)
        {
            Some(Refusal::ReserveRate(l.service_rate))
        } else {
            None
        };
        if let Some(r) = refusal {
            let log = match source.and_then(|s| self.sources.get_mut(&(svc.label.clone(), s))) {
                Some(st) => {
                    // An offender that keeps trying stays one.
                    if matches!(r, Refusal::ReserveRate(_) | Refusal::ReserveMax(_)) {
                        st.offended = Some(now);
                    }
                    Self::log_decision(st, now)
                }
                None => LogIt::Yes { unlogged: 0 },
            };
            return Err((r, log));
        }
        sv.active += 1;
        if l.service_rate > 0 {
            sv.bucket.tokens -= 1.0;
        }
        if let Some(src) = source {
            if let Some(st) = self.sources.get_mut(&(svc.label.clone(), src)) {
                st.active += 1;
                if l.per_source_rate > 0 {
                    st.bucket.tokens -= 1.0;
                }
            }
        }
        Ok(Ticket {
            service: svc.label.clone(),
            source,
        })
    }

    fn log_decision(st: &mut SourceState, now: Instant) -> LogIt {
        match st.last_log {
            Some(t) if now.saturating_duration_since(t) < LOG_INTERVAL => {
                st.unlogged += 1;
                LogIt::No
            }
            _ => {
                let unlogged = st.unlogged;
                st.unlogged = 0;
                st.last_log = Some(now);
                LogIt::Yes { unlogged }
            }
        }
    }

    /// A connection admitted with `t` ended.
    pub fn release(&mut self, t: Ticket) {
        if let Some(sv) = self.services.get_mut(&t.service) {
            sv.active = sv.active.saturating_sub(1);
        }
        if let Some(src) = t.source {
            if let Some(st) = self.sources.get_mut(&(t.service, src)) {
                st.active = st.active.saturating_sub(1);
            }
        }
    }

    /// Connections of a service now active (admitted, not released).
    pub fn active(&self, label: &str) -> u32 {
        self.services.get(label).map_or(0, |s| s.active)
    }

    /// Sources now tracked.
    pub fn sources(&self) -> usize {
        self.sources.len()
    }

    /// Forget sources with nothing active, a full bucket and nothing logged
    /// recently: they would be admitted exactly as a new source is.
    pub fn collect(&mut self, now: Instant) {
        // The rate of a source is that of its service; a source whose
        // service is gone (or idle for a minute) is forgotten.
        let minute = Duration::from_secs(60);
        self.sources.retain(|_, st| {
            st.active > 0
                || now.saturating_duration_since(st.bucket.last) < minute
                || st
                    .offended
                    .is_some_and(|t| now.saturating_duration_since(t) < OFFENDER_MEMORY)
                || st
                    .last_log
                    .is_some_and(|t| now.saturating_duration_since(t) < LOG_INTERVAL)
        });
        self.services.retain(|_, sv| {
            sv.active > 0 || now.saturating_duration_since(sv.bucket.last) < minute
        });
    }

    /// Whether a service's rate bucket is full (tests).
    pub fn service_rested(&self, label: &str, per_minute: u32, now: Instant) -> bool {
        self.services
            .get(label)
            .is_none_or(|s| s.bucket.full(now, per_minute))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Action, Service};
    use crate::internal::Builtin;
    use tcpwrap_tools::inetcf::SockType;

    fn svc(l: Limits) -> Service {
        Service {
            label: "echo/tcp".into(),
            file: b"inetd.conf".to_vec(),
            line: 1,
            socktype: SockType::Stream,
            wait: false,
            binds: Vec::new(),
            action: Action::Internal(Builtin::Echo),
            daemon: b"echo".to_vec(),
            identity: None,
            limits: l,
            sndbuf: None,
            rcvbuf: None,
            umask: None,
        }
    }

    fn src(s: &str) -> Option<Source> {
        Some(Source::of(s.parse().unwrap(), 32, 64))
    }

    #[test]
    fn per_source_concurrency_refuses_only_that_source() {
        let s = svc(Limits {
            service_max: 10,
            service_rate: 0,
            per_source_max: 2,
            per_source_rate: 0,
        });
        let mut l = Limiter::new();
        let now = Instant::now();
        let a1 = l.admit(&s, src("10.0.0.1"), now).unwrap();
        let _a2 = l.admit(&s, src("10.0.0.1"), now).unwrap();
        let (r, log) = l.admit(&s, src("10.0.0.1"), now).unwrap_err();
        assert_eq!(r, Refusal::SourceMax(2));
        assert_eq!(log, LogIt::Yes { unlogged: 0 });
        assert_eq!(l.admit(&s, src("10.0.0.1"), now).unwrap_err().1, LogIt::No);
        let _b = l.admit(&s, src("10.0.0.2"), now).unwrap();
        assert_eq!(l.active("echo/tcp"), 3);
        l.release(a1);
        let _a3 = l.admit(&s, src("10.0.0.1"), now).unwrap();
        // The next record after the interval counts the unlogged ones.
        let later = now + LOG_INTERVAL;
        assert_eq!(
            l.admit(&s, src("10.0.0.1"), later).unwrap_err().1,
            LogIt::Yes { unlogged: 1 }
        );
    }

    #[test]
    fn rates_refill_and_refusals_cost_the_service_nothing() {
        let s = svc(Limits {
            service_max: 0,
            service_rate: 5,
            per_source_max: 0,
            per_source_rate: 3,
        });
        let mut l = Limiter::new();
        let now = Instant::now();
        for _ in 0..3 {
            {
                let t = l.admit(&s, src("10.0.0.1"), now).unwrap();
                l.release(t);
            }
        }
        for _ in 0..100 {
            assert_eq!(
                l.admit(&s, src("10.0.0.1"), now).unwrap_err().0,
                Refusal::SourceRate(3)
            );
        }
        // The flood used none of the service's allowance: 2 are left.
        {
            let t = l.admit(&s, src("10.0.0.2"), now).unwrap();
            l.release(t);
        }
        {
            let t = l.admit(&s, src("10.0.0.3"), now).unwrap();
            l.release(t);
        }
        assert_eq!(
            l.admit(&s, src("10.0.0.4"), now).unwrap_err().0,
            Refusal::ServiceRate(5)
        );
        // 3 per minute: one token every 20 s. The flooder has one again,
        // but as an offender it gets none of the second half of the
        // service's rate, while another source does.
        let later = now + Duration::from_secs(21);
        assert_eq!(
            l.admit(&s, src("10.0.0.1"), later).unwrap_err().0,
            Refusal::ReserveRate(5)
        );
        {
            let t = l.admit(&s, src("10.0.0.5"), later).unwrap();
            l.release(t);
        }
        // Quiet for a minute, it is no longer an offender.
        let quiet = later + OFFENDER_MEMORY;
        {
            let t = l.admit(&s, src("10.0.0.1"), quiet).unwrap();
            l.release(t);
        }
    }

    /// The benchmark's long-flood case: one source floods, the others use
    /// nearly the whole service rate. The flooder, once refused by its own
    /// limit, gets only the first half of the service's allowance, so the
    /// others are never refused however long the flood lasts.
    #[test]
    fn an_offender_never_takes_the_second_half_of_the_service() {
        let s = svc(Limits {
            service_max: 0,
            service_rate: 256,
            per_source_max: 0,
            per_source_rate: 60,
        });
        let mut l = Limiter::new();
        let t0 = Instant::now();
        let flooder = src("10.9.9.9");
        let (mut others_refused, mut flood_admitted) = (0, 0);
        // Ten minutes in steps of 250 ms: the flooder tries 50 times per
        // step, the 20 others one connection per step in turn (240/min).
        for step in 0..2400u32 {
            let now = t0 + Duration::from_millis(250 * u64::from(step));
            for _ in 0..50 {
                if let Ok(t) = l.admit(&s, flooder, now) {
                    flood_admitted += 1;
                    l.release(t);
                }
            }
            let other = format!("10.0.0.{}", 10 + step % 20);
            match l.admit(&s, src(&other), now) {
                Ok(t) => l.release(t),
                Err(_) => others_refused += 1,
            }
        }
        assert_eq!(others_refused, 0);
        // The flooder still gets what the others leave of the first half.
        assert!(flood_admitted > 60, "{flood_admitted}");
        assert!(flood_admitted < 60 * 10 + 60, "{flood_admitted}");
        // Without an offence a source may use the whole rate.
        let mut l = Limiter::new();
        let s = svc(Limits {
            service_max: 4,
            service_rate: 10,
            per_source_max: 0,
            per_source_rate: 0,
        });
        for i in 0..4 {
            let t = l.admit(&s, src(&format!("10.1.0.{i}")), t0).unwrap();
            std::mem::forget(t);
        }
        assert_eq!(
            l.admit(&s, src("10.1.0.9"), t0).unwrap_err().0,
            Refusal::ServiceMax(4)
        );
    }

    #[test]
    fn an_offender_gets_half_of_the_service_connections_at_most() {
        let s = svc(Limits {
            service_max: 8,
            service_rate: 0,
            per_source_max: 3,
            per_source_rate: 0,
        });
        let mut l = Limiter::new();
        let now = Instant::now();
        let a: Vec<_> = (0..3)
            .map(|_| l.admit(&s, src("10.0.0.1"), now).unwrap())
            .collect();
        assert_eq!(
            l.admit(&s, src("10.0.0.1"), now).unwrap_err().0,
            Refusal::SourceMax(3)
        );
        let _b: Vec<_> = (0..2)
            .map(|_| l.admit(&s, src("10.0.0.2"), now).unwrap())
            .collect();
        // Its own connections end; 4 of 8 are in use by the others: the
        // offender may not take a freed slot...
        for t in a {
            l.release(t);
        }
        let _c: Vec<_> = (0..2)
            .map(|_| l.admit(&s, src("10.0.0.3"), now).unwrap())
            .collect();
        assert_eq!(
            l.admit(&s, src("10.0.0.1"), now).unwrap_err().0,
            Refusal::ReserveMax(8)
        );
        // ...while the others may, up to the service's limit.
        let _d: Vec<_> = (0..3)
            .map(|_| l.admit(&s, src("10.0.0.4"), now).unwrap())
            .collect();
        let e = l.admit(&s, src("10.0.0.6"), now).unwrap();
        assert_eq!(
            l.admit(&s, src("10.0.0.5"), now).unwrap_err().0,
            Refusal::ServiceMax(8)
        );
        // Half in use: the offender is still refused.
        l.release(e);
        for t in _d {
            l.release(t);
        }
        assert_eq!(l.active("echo/tcp"), 4);
        assert!(l.admit(&s, src("10.0.0.1"), now).is_err());
        let _f = l.admit(&s, src("10.0.0.7"), now).unwrap();
        // With half in use, a minute after its last refusal it is no
        // longer an offender.
        assert_eq!(
            l.admit(&s, src("10.0.0.1"), now + Duration::from_secs(30))
                .unwrap_err()
                .0,
            Refusal::ReserveMax(8)
        );
        let later = now + Duration::from_secs(30) + OFFENDER_MEMORY;
        assert!(l.admit(&s, src("10.0.0.1"), later).is_ok());
    }

    #[test]
    fn sources_are_prefixes_and_idle_ones_are_forgotten() {
        assert_eq!(
            Source::of("2001:db8::1".parse().unwrap(), 32, 64),
            Source::of("2001:db8::ffff:1".parse().unwrap(), 32, 64)
        );
        assert_eq!(
            Source::of("::ffff:10.1.2.3".parse().unwrap(), 24, 64),
            Source::of("10.1.2.200".parse().unwrap(), 24, 64)
        );
        let s = svc(Limits {
            service_max: 0,
            service_rate: 0,
            per_source_max: 4,
            per_source_rate: 60,
        });
        let mut l = Limiter::new();
        let now = Instant::now();
        for i in 0..1000u32 {
            let ip = std::net::Ipv4Addr::from(0x0a00_0000 + i);
            {
                let t = l
                    .admit(&s, Some(Source::of(ip.into(), 32, 64)), now)
                    .unwrap();
                l.release(t);
            }
        }
        assert_eq!(l.sources(), 1000);
        l.collect(now + Duration::from_secs(61));
        assert_eq!(l.sources(), 0);
    }
}
