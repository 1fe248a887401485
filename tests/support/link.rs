//! A degraded network link between two Linux network namespaces, emulated in userspace.
//!
//! This is a stand-in for `veth` + `tc qdisc netem`/`tbf` on kernels built without
//! `CONFIG_NET_SCH_NETEM`. Topology:
//!
//! ```text
//!   netns {prefix}-c                                         netns {prefix}-s
//!   10.231.X.1 ── dvlink0 (TUN) ══ forwarder threads ══ dvlink0 (TUN) ── 10.231.X.2
//!                                 (loss, rate, delay, jitter)
//! ```
//!
//! Each namespace holds one TUN device (`IFF_TUN | IFF_NO_PI`, so the file descriptor carries
//! raw IP packets) configured as a point-to-point link to the other side's address. Per
//! direction, a reader thread takes packets from the source TUN, applies loss, the rate limit
//! (with a byte-bounded tail-drop queue) and the delay, and hands them to a writer thread that
//! injects each packet into the destination TUN at its delivery time.
//!
//! Requirements: Linux, `CAP_NET_ADMIN` + `CAP_SYS_ADMIN` (root), `/dev/net/tun`, and
//! iproute2's `ip`. Check with [`DegradedLink::available`] and skip the test otherwise.
//! The only dependency besides `std` is the `libc` crate.
//!
//! Usage (each side runs on its own dedicated thread, because `setns` moves only the calling
//! thread; a tokio runtime, if any, must be created on that thread *after* entering):
//!
//! ```ignore
//! let link = DegradedLink::start("dvt-sync", LinkSpec {
//!     delay: Duration::from_millis(150),
//!     rate_bits_per_sec: 1_000_000,
//!     queue_limit_bytes: 64 * 1024,
//!     ..LinkSpec::default()
//! })?;
//! let addr = SocketAddr::from((link.server_addr(), 8080));
//! std::thread::scope(|s| {
//!     s.spawn(|| { link.enter_server_namespace().unwrap(); /* bind `addr`, serve */ });
//!     s.spawn(|| { link.enter_client_namespace().unwrap(); /* connect to `addr` */ });
//! });
//! ```
//!
//! Threads spawned by a thread that has entered a namespace inherit that namespace.

// This file is meant to be dropped into `tests/support/`, where each test binary uses only
// part of it.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Where `ip netns add` bind-mounts named namespaces.
const NETNS_DIR: &str = "/var/run/netns";
/// Name of the TUN device inside each namespace (same name on both sides; they never meet).
const TUN_NAME: &str = "dvlink0";
const MTU: &str = "1500";
/// How often blocked threads look at the stop flag.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// Safety valve on the delay line when no rate limit bounds it (netem's default `limit` is
/// 1000 packets; this is far larger so it never matters for sane specs).
const MAX_QUEUED_PACKETS: usize = 100_000;
/// Directions, used to index [`LinkStats`] arrays.
const C2S: usize = 0;
const S2C: usize = 1;

/// Impairments applied to the link, identically in each direction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkSpec {
    /// One-way delay added in each direction (after serialization at `rate_bits_per_sec`).
    pub delay: Duration,
    /// Uniform jitter: each packet's delay is `delay ± jitter`. Packets are never reordered
    /// (like netem combined with a rate): a packet is held back until its predecessor is out.
    pub jitter: Duration,
    /// Probability in `0.0..=1.0` that a packet is dropped, independently per packet and
    /// direction. `1.0` cuts the link completely.
    pub loss: f64,
    /// Serialization rate of each direction in bits per second; `0` means unlimited.
    pub rate_bits_per_sec: u64,
    /// Tail-drop threshold for the bytes waiting for the rate limiter (like tbf's `limit`):
    /// a packet is dropped if it would make the backlog exceed this. A packet arriving at an
    /// empty queue is always accepted. `0` means unlimited. Only meaningful with a rate.
    pub queue_limit_bytes: usize,
    /// Seed of the per-direction PRNG that drives loss and jitter. Read only by
    /// [`DegradedLink::start`]; [`DegradedLink::set_spec`] keeps the running generators.
    pub seed: u64,
}

impl Default for LinkSpec {
    /// A perfect link: no delay, no loss, unlimited rate.
    fn default() -> Self {
        LinkSpec {
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            loss: 0.0,
            rate_bits_per_sec: 0,
            queue_limit_bytes: 0,
            seed: 0x5eed,
        }
    }
}

/// Counters per direction: index 0 is client→server, index 1 is server→client.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Packets delivered to the far side.
    pub forwarded: [u64; 2],
    /// Packets dropped by the random loss.
    pub dropped_loss: [u64; 2],
    /// Packets tail-dropped because the rate limiter's queue was full.
    pub dropped_queue: [u64; 2],
    /// IP bytes (headers included) of the delivered packets.
    pub bytes: [u64; 2],
}

/// A running link between namespaces `{prefix}-c` (client) and `{prefix}-s` (server).
///
/// Dropping it stops the forwarders, closes the TUN devices (which removes them) and deletes
/// both namespaces, also when a test panics. Threads that entered a namespace stay in it (the
/// kernel keeps the namespace alive for them, without its name), so use dedicated threads.
pub struct DegradedLink {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    client_addr: Ipv4Addr,
    server_addr: Ipv4Addr,
    /// Open handles on the namespaces, `[client, server]`, used by `setns`.
    ns_files: [File; 2],
    /// Declared last so that it is dropped last: the namespaces are deleted only after the
    /// threads are joined and every file descriptor above is closed.
    netns: NetnsGuard,
}

impl DegradedLink {
    /// `Ok(())` if this process can build links here (capabilities, `/dev/net/tun`, `ip`);
    /// `Err(reason)` otherwise, for tests to print and skip.
    pub fn available() -> Result<(), String> {
        if !cfg!(target_os = "linux") {
            return Err("degraded links need Linux network namespaces".into());
        }
        let status = std::fs::read_to_string("/proc/self/status")
            .map_err(|e| format!("cannot read /proc/self/status: {e}"))?;
        let cap_eff = status
            .lines()
            .find_map(|l| l.strip_prefix("CapEff:"))
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
            .ok_or("no CapEff line in /proc/self/status")?;
        const CAP_NET_ADMIN: u32 = 12;
        const CAP_SYS_ADMIN: u32 = 21; // setns() and the mount done by `ip netns add`
        for (bit, name) in [
            (CAP_NET_ADMIN, "CAP_NET_ADMIN"),
            (CAP_SYS_ADMIN, "CAP_SYS_ADMIN"),
        ] {
            if cap_eff & (1 << bit) == 0 {
                return Err(format!("missing {name} (run the tests as root)"));
            }
        }
        OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/net/tun")
            .map_err(|e| format!("cannot open /dev/net/tun: {e}"))?;
        find_ip().ok_or("iproute2 `ip` not found")?;
        Ok(())
    }

    /// Creates namespaces `{prefix}-c` and `{prefix}-s` (deleting stale ones of the same
    /// name first), a TUN device `dvlink0` in each with MTU 1500, addresses `10.231.X.1`
    /// (client) and `10.231.X.2` (server) as a point-to-point pair, brings up `lo` in both,
    /// and starts the forwarder threads.
    ///
    /// `prefix` may hold ASCII letters, digits, `-`, `_`, `.` (at most 32 characters). `X`
    /// (1..=254) is a hash of the prefix; since each link lives in its own namespaces, two
    /// links never conflict even if their `X` coincide. Concurrent links (e.g. parallel tests)
    /// need distinct prefixes: starting a link deletes any namespace with its names.
    ///
    /// On error everything created so far is removed.
    pub fn start(prefix: &str, spec: LinkSpec) -> io::Result<DegradedLink> {
        validate_prefix(prefix)?;
        let ip = find_ip()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "iproute2 `ip` not found"))?;
        let names = [format!("{prefix}-c"), format!("{prefix}-s")];
        let x = subnet_octet(prefix);
        let addrs = [Ipv4Addr::new(10, 231, x, 1), Ipv4Addr::new(10, 231, x, 2)];

        // From here on, `netns` deletes whatever namespaces were created if we return early.
        let mut netns = NetnsGuard {
            ip,
            names: Vec::new(),
        };
        for name in &names {
            if Path::new(NETNS_DIR).join(name).exists() {
                // Left over by a process that was killed before its Drop ran.
                let _ = netns.run(&["netns", "del", name]);
            }
            netns.run(&["netns", "add", name])?;
            netns.names.push(name.clone());
        }
        let ns_files = [
            File::open(Path::new(NETNS_DIR).join(&names[0]))?,
            File::open(Path::new(NETNS_DIR).join(&names[1]))?,
        ];
        // The TUN devices are created inside their namespaces (see `create_tun_in`). If a later
        // step fails, their descriptors close as `tuns` goes out of scope, removing them.
        let tuns = [
            Arc::new(create_tun_in(&ns_files[0], TUN_NAME)?),
            Arc::new(create_tun_in(&ns_files[1], TUN_NAME)?),
        ];
        for side in [C2S, S2C] {
            let (ns, local, peer) = (&names[side], addrs[side], addrs[1 - side]);
            netns.run(&["-n", ns, "link", "set", "dev", "lo", "up"])?;
            // No IPv6 link-local address: it would only add router solicitations to the
            // traffic and the stats. Best effort: fails harmlessly on kernels without IPv6.
            let _ = netns.run(&[
                "-n",
                ns,
                "link",
                "set",
                "dev",
                TUN_NAME,
                "addrgenmode",
                "none",
            ]);
            netns.run(&["-n", ns, "link", "set", "dev", TUN_NAME, "mtu", MTU])?;
            netns.run(&[
                "-n",
                ns,
                "addr",
                "add",
                &local.to_string(),
                "peer",
                &format!("{peer}/32"),
                "dev",
                TUN_NAME,
            ])?;
            netns.run(&["-n", ns, "link", "set", "dev", TUN_NAME, "up"])?;
        }

        let shared = Arc::new(Shared {
            spec: Mutex::new(sanitize(spec)),
            stop: AtomicBool::new(false),
            dirs: [Direction::default(), Direction::default()],
        });
        // Built before spawning, so that a failed spawn stops the threads already running
        // (through Drop) as well as removing the namespaces.
        let mut link = DegradedLink {
            shared,
            threads: Vec::with_capacity(4),
            client_addr: addrs[0],
            server_addr: addrs[1],
            ns_files,
            netns,
        };
        // `tuns` moves into the call so that, on error, the TUN descriptors close before `link`
        // (and with it the namespaces) goes away.
        link.spawn_forwarders(tuns, spec.seed)?;
        Ok(link)
    }

    fn spawn_forwarders(&mut self, tuns: [Arc<File>; 2], seed: u64) -> io::Result<()> {
        for (dir, src, dst, label) in [
            (C2S, &tuns[0], &tuns[1], "c2s"),
            (S2C, &tuns[1], &tuns[0], "s2c"),
        ] {
            let (shared, src) = (Arc::clone(&self.shared), Arc::clone(src));
            // Distinct, deterministic stream per direction.
            let rng = SplitMix64(seed ^ (dir as u64 + 1).wrapping_mul(0xA076_1D64_78BD_642F));
            self.threads.push(
                std::thread::Builder::new()
                    .name(format!("link-{label}-rx"))
                    .spawn(move || reader_loop(&shared, dir, &src, rng))?,
            );
            let (shared, dst) = (Arc::clone(&self.shared), Arc::clone(dst));
            self.threads.push(
                std::thread::Builder::new()
                    .name(format!("link-{label}-tx"))
                    .spawn(move || writer_loop(&shared, dir, &dst))?,
            );
        }
        Ok(())
    }

    pub fn client_addr(&self) -> Ipv4Addr {
        self.client_addr
    }

    pub fn server_addr(&self) -> Ipv4Addr {
        self.server_addr
    }

    /// Name of the client namespace (`{prefix}-c`), e.g. for `ip netns exec` while debugging.
    pub fn client_namespace(&self) -> &str {
        &self.netns.names[C2S]
    }

    /// Name of the server namespace (`{prefix}-s`).
    pub fn server_namespace(&self) -> &str {
        &self.netns.names[S2C]
    }

    /// Moves the calling thread into the client namespace: sockets it creates afterwards (and
    /// threads it spawns afterwards) live there. Use a dedicated thread, never a shared tokio
    /// worker; build a current-thread runtime on it after this call if you need async.
    pub fn enter_client_namespace(&self) -> io::Result<()> {
        setns_net(&self.ns_files[C2S])
    }

    /// Moves the calling thread into the server namespace; see [`Self::enter_client_namespace`].
    pub fn enter_server_namespace(&self) -> io::Result<()> {
        setns_net(&self.ns_files[S2C])
    }

    /// Replaces the impairments for packets entering the link from now on. Packets already
    /// in flight keep their delivery time, and FIFO order is kept, so after a delay decrease
    /// new packets still wait for the older ones. `spec.seed` is ignored here.
    pub fn set_spec(&self, spec: LinkSpec) {
        *lock(&self.shared.spec) = sanitize(spec);
    }

    /// The impairments currently applied.
    pub fn spec(&self) -> LinkSpec {
        *lock(&self.shared.spec)
    }

    pub fn stats(&self) -> LinkStats {
        let mut stats = LinkStats::default();
        for (i, d) in self.shared.dirs.iter().enumerate() {
            stats.forwarded[i] = d.forwarded.load(Ordering::Relaxed);
            stats.dropped_loss[i] = d.dropped_loss.load(Ordering::Relaxed);
            stats.dropped_queue[i] = d.dropped_queue.load(Ordering::Relaxed);
            stats.bytes[i] = d.bytes.load(Ordering::Relaxed);
        }
        stats
    }
}

impl Drop for DegradedLink {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for d in &self.shared.dirs {
            d.ready.notify_all();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        // Then the fields drop in declaration order: the last Arc on the TUN files goes with
        // the threads, `ns_files` closes, and `netns` deletes both namespaces.
    }
}

impl std::fmt::Debug for DegradedLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DegradedLink")
            .field("namespaces", &self.netns.names)
            .field("client_addr", &self.client_addr)
            .field("server_addr", &self.server_addr)
            .field("spec", &self.spec())
            .finish()
    }
}

// ---------------------------------------------------------------------------------------
// Forwarding

struct Shared {
    spec: Mutex<LinkSpec>,
    stop: AtomicBool,
    dirs: [Direction; 2],
}

/// The delay line of one direction, between its reader and its writer thread.
#[derive(Default)]
struct Direction {
    /// Packets in delivery order (`deliver_at` never decreases along the queue).
    queue: Mutex<VecDeque<Packet>>,
    /// Signalled when the queue goes from empty to non-empty, and on stop.
    ready: Condvar,
    forwarded: AtomicU64,
    dropped_loss: AtomicU64,
    dropped_queue: AtomicU64,
    bytes: AtomicU64,
}

struct Packet {
    deliver_at: Instant,
    data: Vec<u8>,
}

/// Reads packets from `src`, applies loss, rate and delay, and queues them for the writer.
fn reader_loop(shared: &Shared, dir: usize, src: &File, mut rng: SplitMix64) {
    let d = &shared.dirs[dir];
    // Time at which the rate limiter finishes serializing the last accepted packet.
    let mut link_free_at = Instant::now();
    // Delivery time of the last queued packet, to keep FIFO order under jitter.
    let mut last_delivery = Instant::now();
    let mut buf = vec![0u8; 65536];
    while !shared.stop.load(Ordering::Relaxed) {
        match wait_readable(src, POLL_INTERVAL) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                eprintln!("link: poll on TUN failed: {e}");
                std::thread::sleep(POLL_INTERVAL);
                continue;
            }
        }
        // Drain everything the kernel has queued (the descriptor is non-blocking).
        loop {
            let len = match (&*src).read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    eprintln!("link: read from TUN failed: {e}");
                    std::thread::sleep(POLL_INTERVAL);
                    break;
                }
            };
            let now = Instant::now();
            let spec = *lock(&shared.spec);

            // Loss first, as netem does: a lost packet takes no room in the queue.
            if spec.loss > 0.0 && rng.next_f64() < spec.loss {
                d.dropped_loss.fetch_add(1, Ordering::Relaxed);
                continue;
            }

            // Rate limiter: the link serializes one packet after the other. Everything not yet
            // serialized at `now` is the backlog that `queue_limit_bytes` bounds.
            let start = link_free_at.max(now);
            let backlog = bytes_in(start - now, spec.rate_bits_per_sec);
            if spec.queue_limit_bytes > 0 && backlog > 0 && backlog + len > spec.queue_limit_bytes {
                d.dropped_queue.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let departure = start + serialization_time(len, spec.rate_bits_per_sec);

            // Propagation delay ± jitter, never before departure and never before the
            // previous packet of this direction.
            let mut deliver_at = departure + spec.delay;
            if !spec.jitter.is_zero() {
                let j = spec.jitter.as_nanos().min(u64::MAX as u128 / 4) as u64;
                let offset = rng.below(2 * j + 1) as i128 - j as i128;
                deliver_at = if offset >= 0 {
                    deliver_at + Duration::from_nanos(offset as u64)
                } else {
                    deliver_at
                        .checked_sub(Duration::from_nanos((-offset) as u64))
                        .unwrap_or(departure)
                        .max(departure)
                };
            }
            deliver_at = deliver_at.max(last_delivery);

            let mut queue = lock(&d.queue);
            if queue.len() >= MAX_QUEUED_PACKETS {
                drop(queue);
                d.dropped_queue.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            link_free_at = departure;
            last_delivery = deliver_at;
            let was_empty = queue.is_empty();
            queue.push_back(Packet {
                deliver_at,
                data: buf[..len].to_vec(),
            });
            drop(queue);
            // The writer sleeps until the head's deadline, which a packet queued behind the
            // head cannot change; it only needs waking when the queue was empty.
            if was_empty {
                d.ready.notify_one();
            }
        }
    }
}

/// Writes each queued packet to `dst` at its delivery time.
fn writer_loop(shared: &Shared, dir: usize, dst: &File) {
    let d = &shared.dirs[dir];
    let mut due = Vec::new();
    let mut queue = lock(&d.queue);
    loop {
        if shared.stop.load(Ordering::Relaxed) {
            return;
        }
        let now = Instant::now();
        let wait = match queue.front() {
            None => POLL_INTERVAL,
            Some(p) if p.deliver_at > now => (p.deliver_at - now).min(POLL_INTERVAL),
            Some(_) => {
                while queue.front().is_some_and(|p| p.deliver_at <= now) {
                    due.extend(queue.pop_front());
                }
                drop(queue);
                for p in due.drain(..) {
                    // A TUN write injects the packet into the far namespace's stack and does
                    // not block. Errors (e.g. a malformed packet) mean a lost packet, which
                    // is what a real link would do too.
                    if (&*dst).write(&p.data).is_ok() {
                        d.forwarded.fetch_add(1, Ordering::Relaxed);
                        d.bytes.fetch_add(p.data.len() as u64, Ordering::Relaxed);
                    }
                }
                queue = lock(&d.queue);
                continue;
            }
        };
        // Condvar timed waits are futex waits on CLOCK_MONOTONIC, the clock of `Instant`:
        // they wake within tens of microseconds of the deadline, without spinning.
        queue = d
            .ready
            .wait_timeout(queue, wait)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

/// Bytes the link serializes in `d` at `rate` bit/s (0 when unlimited).
fn bytes_in(d: Duration, rate: u64) -> usize {
    if rate == 0 {
        return 0;
    }
    (d.as_nanos() * rate as u128 / 8 / 1_000_000_000).min(usize::MAX as u128) as usize
}

/// Time to serialize `len` bytes at `rate` bit/s (zero when unlimited).
fn serialization_time(len: usize, rate: u64) -> Duration {
    if rate == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos((len as u128 * 8 * 1_000_000_000 / rate as u128) as u64)
}

fn sanitize(mut spec: LinkSpec) -> LinkSpec {
    // `f64::clamp` keeps NaN; treat it as "no loss".
    spec.loss = if spec.loss.is_nan() {
        0.0
    } else {
        spec.loss.clamp(0.0, 1.0)
    };
    spec
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks cannot leave the data inconsistent (single
    // assignments and queue pushes/pops), so poisoning is ignored.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// SplitMix64: tiny, fast, good enough for loss and jitter decisions, and deterministic.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[0, n)` (Lemire's multiply-shift; the bias is negligible here).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
}

// ---------------------------------------------------------------------------------------
// Namespaces, TUN devices and system calls

/// Owns the named namespaces created so far; deletes them when dropped.
struct NetnsGuard {
    ip: PathBuf,
    names: Vec<String>,
}

impl NetnsGuard {
    /// Runs `ip ARGS`, turning a failure into an error carrying ip's message.
    fn run(&self, args: &[&str]) -> io::Result<()> {
        let out = Command::new(&self.ip).args(args).output()?;
        if out.status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "`ip {}` failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    }
}

impl Drop for NetnsGuard {
    fn drop(&mut self) {
        for name in &self.names {
            if let Err(e) = self.run(&["netns", "del", name]) {
                eprintln!("link: cannot delete namespace {name}: {e}");
            }
        }
    }
}

fn find_ip() -> Option<PathBuf> {
    let fixed = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].map(PathBuf::from);
    let from_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("ip"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    fixed.into_iter().chain(from_path).find(|p| p.is_file())
}

fn validate_prefix(prefix: &str) -> io::Result<()> {
    let ok = !prefix.is_empty()
        && prefix.len() <= 32
        && !prefix.starts_with(['-', '.'])
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid link prefix {prefix:?}: use 1-32 of [A-Za-z0-9_.-]"),
        ))
    }
}

/// Third octet of the link's 10.231.X.0/24 subnet: FNV-1a of the prefix, in 1..=254.
fn subnet_octet(prefix: &str) -> u8 {
    let h = prefix.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    (h % 254 + 1) as u8
}

/// Moves the calling thread into the network namespace `ns`.
fn setns_net(ns: &File) -> io::Result<()> {
    // SAFETY: setns only reads its arguments; `ns` keeps the descriptor open during the call,
    // and CLONE_NEWNET restricts the change to the calling thread's network namespace.
    let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Creates TUN device `name` inside namespace `ns` and returns its (non-blocking) descriptor.
///
/// A TUN device belongs to the namespace of the thread that *opened* `/dev/net/tun`, so a
/// short-lived thread enters the namespace and opens it there; the descriptor then works from
/// any thread. (Creating the device in the current namespace and moving it with
/// `ip link set dev NAME netns NS` also works on current kernels, but it briefly puts the
/// device, and its name, in the host namespace where parallel tests would collide.)
fn create_tun_in(ns: &File, name: &str) -> io::Result<File> {
    let ns = ns.try_clone()?;
    let name = name.to_owned();
    std::thread::Builder::new()
        .name("link-tun-setup".into())
        .spawn(move || {
            setns_net(&ns)?;
            open_tun(&name)
        })?
        .join()
        .map_err(|_| io::Error::other("TUN setup thread panicked"))?
}

/// `struct ifreq` restricted to the members TUNSETIFF reads (name and flags), padded to the
/// kernel's size so that the kernel's copy of the whole struct stays in bounds.
#[repr(C)]
struct IfReqFlags {
    name: [libc::c_char; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}
const _: () = assert!(size_of::<IfReqFlags>() == size_of::<libc::ifreq>());

fn open_tun(name: &str) -> io::Result<File> {
    if name.len() >= libc::IFNAMSIZ || name.as_bytes().contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "bad interface name",
        ));
    }
    let tun = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK) // std adds O_CLOEXEC
        .open("/dev/net/tun")?;
    let mut req = IfReqFlags {
        name: [0; libc::IFNAMSIZ],
        flags: (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short,
        _pad: [0; 22],
    };
    for (dst, src) in req.name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    // SAFETY: TUNSETIFF reads and writes one `struct ifreq`; `req` has that size and layout
    // (asserted above), is NUL-terminated, and is exclusively borrowed for the call. The
    // descriptor is open for the duration of the call.
    let rc = unsafe {
        libc::ioctl(
            tun.as_raw_fd(),
            libc::TUNSETIFF,
            &mut req as *mut IfReqFlags,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(tun)
}

/// Waits up to `timeout` for `fd` to become readable.
fn wait_readable(fd: &File, timeout: Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `pfd` is a valid array of one pollfd, exclusively borrowed during the call, and
    // the descriptor stays open because `fd` is borrowed.
    let rc = unsafe { libc::poll(&mut pfd, 1, timeout.as_millis() as libc::c_int) };
    match rc {
        0 => Ok(false),
        n if n > 0 => Ok(true),
        _ => {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(e)
            }
        }
    }
}
