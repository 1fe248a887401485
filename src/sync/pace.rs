//! How big and how patient a sync request should be, from the link as measured (no IO, no
//! clock: the transport measures, this decides). The browser and the native test and benchmark
//! clients use the same rules.
//!
//! A phone on 2G moves about 16 KB/s; a page of the server's default size (2 MB) takes two
//! minutes there, and a request cut at the end of it loses all of it. So a session starts with a
//! small page, measures how fast the link carried it, and sizes the next pages (and the batches
//! it uploads) to [`PAGE_SECONDS`] of transfer: a cut costs at most that much, and the round
//! trip between pages stays a small part of the time. A request is given up when its transfer
//! stops moving ([`STALL`] without a byte), never because it is long: a slow link that keeps
//! delivering is left to finish.

use std::future::Future;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use super::FEED_BUDGET_MAX;
use super::session::REQUEST_BYTES;

/// A page (or an upload batch) should take about this long on the link as measured.
pub const PAGE_SECONDS: f64 = 8.0;
/// The first page and batch of a session, before anything is measured: about 1 s on 2G
/// (128 kbit/s), so the first answer, with the count of what is coming, arrives at once.
pub const FIRST_BYTES: u32 = 16 * 1024;
/// Pages and batches never get smaller than this, however slow the link: below it, the round
/// trip between pages would cost more than the transfer.
pub const MIN_BYTES: u32 = 32 * 1024;
/// A transfer that delivers nothing for this long is given up (the link is gone). Longer than
/// TCP's retransmission backoff on a lossy link (1 + 2 + 4 + 8 s), shorter than a user's patience.
pub const STALL: Duration = Duration::from_secs(25);
/// The slowest upload rate assumed before one is measured (16 kbit/s, GPRS): an upload cannot be
/// watched byte by byte from a browser, so its deadline is its size at this rate, plus [`STALL`].
pub const SLOWEST_BYTES_PER_SEC: f64 = 2.0 * 1024.0;
/// Exchanges smaller than this say little about the link's rate (the round trip dominates; a
/// first page is somewhat under its budget).
const MEASURE_FROM_BYTES: usize = 8 * 1024;
/// Weight of a faster measurement in the moving average.
const NEW_WEIGHT: f64 = 0.5;

/// What a session has measured of its link, each way.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pace {
    /// Bytes per second of response bodies: the last measure if it was slower, else a moving
    /// average.
    down: Option<f64>,
    /// Bytes per second of request bodies.
    up: Option<f64>,
}

impl Pace {
    /// One exchange: `sent` request bytes, `received` response bytes, `elapsed` from sending the
    /// request to the last byte of the response. The time is credited to the direction that
    /// carried most of the bytes (a feed page is all download, a batch of new models all
    /// upload); it includes the round trip, so a small exchange underestimates the rate and the
    /// next one is still small: pages grow only as fast as the link proves it can carry them.
    pub fn observe(&mut self, sent: usize, received: usize, elapsed: Duration) {
        let (bytes, rate) = if received >= sent { (received, &mut self.down) } else { (sent, &mut self.up) };
        if bytes < MEASURE_FROM_BYTES {
            return;
        }
        let sample = bytes as f64 / elapsed.as_secs_f64().max(0.001);
        // A slower link is followed at once (the phone left Wi-Fi: the next page must not be
        // sized for it), a faster one gradually.
        *rate = Some(match *rate {
            Some(old) if sample >= old => (1.0 - NEW_WEIGHT) * old + NEW_WEIGHT * sample,
            _ => sample,
        });
    }

    /// Feed bytes to ask for in the next response.
    pub fn feed_budget(&self) -> u32 {
        sized(self.down, FEED_BUDGET_MAX as f64)
    }

    /// Request body size after which the session keeps further documents for the next round.
    pub fn request_bytes(&self) -> usize {
        sized(self.up, REQUEST_BYTES as f64) as usize
    }

    /// How long a request of `bytes` may take until its response starts: the upload at half the
    /// measured rate (or the slowest assumed), plus [`STALL`] for the server's work and the
    /// first bytes back. A browser cannot see an upload's progress, so this is a deadline, not a
    /// stall watch.
    pub fn send_timeout(&self, bytes: usize) -> Duration {
        let rate = self.up.map_or(SLOWEST_BYTES_PER_SEC, |r| (r / 2.0).max(SLOWEST_BYTES_PER_SEC));
        STALL + Duration::from_secs_f64(bytes as f64 / rate)
    }

    /// The measured download rate, bytes per second (for reports).
    pub fn down_rate(&self) -> Option<f64> {
        self.down
    }
}

fn sized(rate: Option<f64>, max: f64) -> u32 {
    match rate {
        None => FIRST_BYTES,
        Some(r) => (r * PAGE_SECONDS).clamp(MIN_BYTES as f64, max) as u32,
    }
}

/// A response body read piece by piece (fetch's `ReadableStream`, hyper's body).
#[allow(async_fn_in_trait)]
pub trait Body {
    type Chunk: AsRef<[u8]>;
    type Error;
    /// The next piece, or `None` at the end.
    async fn chunk(&mut self) -> Result<Option<Self::Chunk>, Self::Error>;
}

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum BodyError<E> {
    #[error("no data for {} s", .0.as_secs())]
    Stalled(Duration),
    #[error("{0}")]
    Failed(E),
}

/// Reads `body` to its end, giving up only when no piece arrives for `stall` (`sleep` is the
/// platform's timer). A body that keeps moving is read however long it takes.
pub async fn read_body<B: Body, S: Future<Output = ()>>(
    body: &mut B,
    mut sleep: impl FnMut(Duration) -> S,
    stall: Duration,
) -> Result<Vec<u8>, BodyError<B::Error>> {
    let mut bytes = Vec::new();
    loop {
        match first(body.chunk(), sleep(stall)).await {
            Either::Left(Ok(Some(chunk))) => bytes.extend_from_slice(chunk.as_ref()),
            Either::Left(Ok(None)) => return Ok(bytes),
            Either::Left(Err(e)) => return Err(BodyError::Failed(e)),
            Either::Right(()) => return Err(BodyError::Stalled(stall)),
        }
    }
}

pub enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Whichever of `a` and `b` finishes first (the other is dropped, which cancels it); `a` wins a
/// tie. Used to put a deadline on a request with the platform's own timer.
pub async fn first<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let (mut a, mut b) = (pin!(a), pin!(b));
    std::future::poll_fn(|cx| {
        if let Poll::Ready(x) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(x));
        }
        if let Poll::Ready(y) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(y));
        }
        Poll::Pending
    })
    .await
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    const RATE_2G: f64 = 16_000.0;

    /// A feed page of `bytes` over a link of `rate` bytes/s with a round trip of `rtt` seconds.
    fn page(pace: &mut Pace, rate: f64, rtt: f64) -> u32 {
        let bytes = pace.feed_budget();
        pace.observe(100, bytes as usize, Duration::from_secs_f64(bytes as f64 / rate + rtt));
        bytes
    }

    #[test]
    fn a_session_starts_small_and_grows_to_seconds_of_transfer() {
        let mut pace = Pace::default();
        assert_eq!(pace.feed_budget(), FIRST_BYTES);
        assert_eq!(pace.request_bytes(), FIRST_BYTES as usize);
        let sizes: Vec<u32> = (0..8).map(|_| page(&mut pace, RATE_2G, 0.3)).collect();
        assert_eq!(sizes[0], 16 * 1024, "{sizes:?}");
        assert!(sizes.windows(2).all(|w| w[1] >= w[0]), "pages only grow on a steady link: {sizes:?}");
        // Settles near 8 s of transfer (less the round trip the measure includes).
        let last = *sizes.last().unwrap() as f64 / RATE_2G;
        assert!((7.0..=8.0).contains(&last), "last page {last:.2} s of transfer: {sizes:?}");
        // Downloads say nothing about uploads.
        assert_eq!(pace.request_bytes(), FIRST_BYTES as usize);
    }

    #[test]
    fn pages_are_clamped_and_follow_a_slower_link() {
        let mut fast = Pace::default();
        for _ in 0..10 {
            page(&mut fast, 50e6, 0.01);
        }
        assert_eq!(fast.feed_budget(), FEED_BUDGET_MAX, "a fast link gets the largest page");
        // The phone walks out of Wi-Fi: the next (large) page crawls, and the one after is small.
        fast.observe(100, FEED_BUDGET_MAX as usize, Duration::from_secs_f64(FEED_BUDGET_MAX as f64 / 16_000.0));
        assert_eq!(fast.feed_budget(), 128_000, "8 s at the new rate, at once");
        for _ in 0..4 {
            page(&mut fast, 2_000.0, 0.6);
        }
        assert_eq!(fast.feed_budget(), MIN_BYTES, "never below the floor, however slow");
    }

    #[test]
    fn small_exchanges_measure_nothing() {
        let mut pace = Pace::default();
        pace.observe(90, 300, Duration::from_millis(700));
        pace.observe(5_000, 200, Duration::from_secs(3));
        pace.observe(200, 8_000, Duration::from_secs(1));
        assert_eq!(pace, Pace::default());
    }

    #[test]
    fn uploads_are_sized_and_given_time_by_their_own_rate() {
        let mut pace = Pace::default();
        // Unmeasured: 16 KB at the slowest rate, plus the stall allowance.
        assert_eq!(pace.send_timeout(16 * 1024), STALL + Duration::from_secs(8));
        pace.observe(64_000, 500, Duration::from_secs(4));
        assert_eq!(pace.request_bytes(), 128_000);
        // Measured 16 KB/s: allowed half of it.
        assert_eq!(pace.send_timeout(128_000), STALL + Duration::from_secs(16));
        assert_eq!(pace.feed_budget(), FIRST_BYTES, "uploads say nothing about downloads");
        for _ in 0..10 {
            pace.observe(REQUEST_BYTES, 500, Duration::from_millis(100));
        }
        assert_eq!(pace.request_bytes(), REQUEST_BYTES, "clamped to the request limit");
    }

    /// A body that delivers `pieces` pieces, one every `every`, then ends (or, if `then_stall`,
    /// never delivers again).
    struct Trickle {
        pieces: usize,
        every: Duration,
        then_stall: bool,
    }

    impl Body for Trickle {
        type Chunk = Vec<u8>;
        type Error = String;
        async fn chunk(&mut self) -> Result<Option<Vec<u8>>, String> {
            if self.pieces == 0 {
                if self.then_stall {
                    std::future::pending::<()>().await;
                }
                return Ok(None);
            }
            tokio::time::sleep(self.every).await;
            self.pieces -= 1;
            Ok(Some(vec![7; 10]))
        }
    }

    #[tokio::test]
    async fn a_slow_body_that_keeps_moving_is_read_to_its_end() {
        let stall = Duration::from_millis(300);
        let mut body = Trickle { pieces: 12, every: Duration::from_millis(100), then_stall: false };
        let started = std::time::Instant::now();
        let read = read_body(&mut body, tokio::time::sleep, stall).await.unwrap();
        assert_eq!(read.len(), 120);
        assert!(started.elapsed() > 3 * stall, "took longer than the stall timeout, and that is fine");
    }

    #[tokio::test]
    async fn a_body_that_stops_moving_is_given_up_after_the_stall_time() {
        let stall = Duration::from_millis(300);
        let mut body = Trickle { pieces: 3, every: Duration::from_millis(100), then_stall: true };
        let started = std::time::Instant::now();
        let err = read_body(&mut body, tokio::time::sleep, stall).await.unwrap_err();
        assert_eq!(err, BodyError::Stalled(stall));
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(600) && took < Duration::from_millis(1500), "{took:?}");
    }

    #[tokio::test]
    async fn a_failing_body_fails_at_once() {
        struct Broken;
        impl Body for Broken {
            type Chunk = Vec<u8>;
            type Error = String;
            async fn chunk(&mut self) -> Result<Option<Vec<u8>>, String> {
                Err("connection reset".into())
            }
        }
        let err = read_body(&mut Broken, |_| std::future::pending::<()>(), STALL).await.unwrap_err();
        assert_eq!(err, BodyError::Failed("connection reset".to_string()));
    }
}
