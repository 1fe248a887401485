//! Bounds on what one request, or a flood of them, may cost the server: body sizes per route,
//! sync requests in flight, and password hashing on its own small pool.
//!
//! Invariants:
//! - no route reads more body than its own limit ([`body_limit_for`]); a declared length over it is
//!   refused before a byte of the body is read, so a flood of 30 MB bodies costs kilobytes each;
//! - argon2 (19 MiB and tens of milliseconds of a core per verification) runs at most
//!   [`HashingPool::permits`] at a time with a bounded queue: past it the answer is a quick,
//!   retryable 503, so a sign-in flood can neither take every core from sync nor pile up memory;
//! - at most [`SYNC_IN_FLIGHT`] sync requests run at once; up to [`SYNC_WAITING`] more wait (at most
//!   [`SYNC_MAX_WAIT`]), the rest get a retryable 503 that the device's backoff absorbs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;
use tower::{Layer, ServiceExt};

use super::error::ApiError;

/// Sign-in, invitations, and anything not listed in [`body_limit_for`]: a username, a password and
/// a token are a few hundred bytes.
pub const SMALL_BODY_BYTES: usize = 16 * 1024;
/// Administration forms (users, grants, clusters, criteria lists).
pub const ADMIN_BODY_BYTES: usize = 64 * 1024;
/// A unit tree imported as CSV (a province's ~10,000 units is about 600 KB).
pub const UNIT_IMPORT_BYTES: usize = 2 * 1024 * 1024;

/// The most body a request to `path` may send.
pub fn body_limit_for(method: &Method, path: &str) -> usize {
    if path == "/api/sync" {
        crate::sync::MAX_BODY_BYTES
    } else if path.starts_with("/api/photos/") {
        crate::server::photos::MAX_CHUNK_BYTES
    } else if path == "/api/import/models" && method == Method::POST {
        crate::server::routes::import::IMPORT_BODY_BYTES
    } else if path == "/api/admin/units" && method == Method::POST {
        UNIT_IMPORT_BYTES
    } else if path.starts_with("/api/admin/") {
        ADMIN_BODY_BYTES
    } else {
        SMALL_BODY_BYTES
    }
}

fn too_large(limit: usize) -> Response {
    let size = if limit >= 1024 * 1024 { format!("{} MiB", limit / (1024 * 1024)) } else { format!("{} KiB", limit / 1024) };
    ApiError::TooLarge(format!("Yêu cầu quá lớn: nội dung gửi lên tối đa {size}.")).into_response()
}

/// Middleware over the API: refuses a declared length over the route's limit at once, and caps
/// what the extractors read of an undeclared (chunked) body at the same limit.
pub async fn limit_body(request: Request, next: Next) -> Response {
    let limit = body_limit_for(request.method(), request.uri().path());
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large(limit);
    }
    let response = match DefaultBodyLimit::max(limit).layer(next).oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    // axum's own answer when a chunked body runs over is plain English text; say it like every
    // other error of the API.
    let is_json = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if response.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return too_large(limit);
    }
    response
}

/// Sync requests running at once, and waiting for their turn.
pub const SYNC_IN_FLIGHT: usize = 64;
pub const SYNC_WAITING: usize = 1024;
pub const SYNC_MAX_WAIT: Duration = Duration::from_secs(10);

/// Admission to the sync route (a layer on its router): a bounded number run, a bounded number
/// wait, and the rest are told to come back (503, retryable, `Retry-After`).
pub struct SyncAdmission {
    running: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
    max_wait: Duration,
}

impl Default for SyncAdmission {
    fn default() -> Self {
        SyncAdmission::new(SYNC_IN_FLIGHT, SYNC_WAITING, SYNC_MAX_WAIT)
    }
}

impl SyncAdmission {
    pub fn new(running: usize, max_waiting: usize, max_wait: Duration) -> SyncAdmission {
        SyncAdmission { running: Semaphore::new(running), waiting: AtomicUsize::new(0), max_waiting, max_wait }
    }
}

/// Sync retries by itself (the session's backoff); sign-in is retried by the person.
fn sync_busy() -> ApiError {
    ApiError::Busy("Máy chủ đang bận (quá nhiều thiết bị đồng bộ cùng lúc); thiết bị sẽ tự thử lại sau 5 giây.".into(), 5)
}

fn hashing_busy() -> ApiError {
    ApiError::Busy("Máy chủ đang bận vì quá nhiều lượt đăng nhập cùng lúc. Hãy thử lại sau vài giây.".into(), 2)
}

/// Counts one waiter for as long as it lives, so a request dropped while it waits (its client
/// gave up) is uncounted too.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn wait_in(counter: &AtomicUsize, bound: usize) -> Option<Waiting<'_>> {
    let waiting = Waiting(counter);
    (counter.fetch_add(1, Ordering::AcqRel) < bound).then_some(waiting)
}

pub async fn admit_sync(State(admission): State<Arc<SyncAdmission>>, request: Request, next: Next) -> Response {
    let permit = match admission.running.try_acquire() {
        Ok(permit) => permit,
        Err(_) => {
            let Some(waiting) = wait_in(&admission.waiting, admission.max_waiting) else {
                return sync_busy().into_response();
            };
            let waited = tokio::time::timeout(admission.max_wait, admission.running.acquire()).await;
            drop(waiting);
            match waited {
                Ok(Ok(permit)) => permit,
                _ => return sync_busy().into_response(),
            }
        }
    };
    let response = next.run(request).await;
    drop(permit);
    response
}

/// Password hashing and verification, off the async threads and bounded (see the module's
/// invariants). One permit per two cores, at least one: the other cores stay for sync.
pub struct HashingPool {
    permits: Arc<Semaphore>,
    size: usize,
    queued: AtomicUsize,
}

/// Verifications that may wait for a permit; a burst of honest sign-ins (a training session of a
/// commune's cadres) fits, a flood is answered 503 at once.
pub const HASHING_QUEUE: usize = 32;

impl Default for HashingPool {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let size = (cores / 2).max(1);
        HashingPool { permits: Arc::new(Semaphore::new(size)), size, queued: AtomicUsize::new(0) }
    }
}

impl HashingPool {
    pub fn permits(&self) -> usize {
        self.size
    }

    /// Runs `work` (an argon2 hash or verification) on a blocking thread when a permit is free;
    /// `Err(Busy)` at once if the queue is full.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
        let Some(queued) = wait_in(&self.queued, HASHING_QUEUE + self.size) else {
            return Err(hashing_busy());
        };
        let permit = self.permits.clone().acquire_owned().await.map_err(|e| ApiError::Internal(e.to_string()))?;
        // The permit goes with the work: if the request is dropped (its client hung up), the
        // verification still running keeps its permit until it ends, so no more than `size` run.
        let result = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await;
        drop(queued);
        result.map_err(|e| ApiError::Internal(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_has_its_own_body_limit() {
        assert_eq!(body_limit_for(&Method::POST, "/api/session"), SMALL_BODY_BYTES);
        assert_eq!(body_limit_for(&Method::POST, "/api/invitations/accept"), SMALL_BODY_BYTES);
        assert_eq!(body_limit_for(&Method::POST, "/api/admin/units"), UNIT_IMPORT_BYTES);
        assert_eq!(body_limit_for(&Method::PUT, "/api/admin/criteria/x"), ADMIN_BODY_BYTES);
        assert_eq!(body_limit_for(&Method::POST, "/api/sync"), crate::sync::MAX_BODY_BYTES);
        assert_eq!(body_limit_for(&Method::PUT, "/api/photos/d/p"), crate::server::photos::MAX_CHUNK_BYTES);
        assert_eq!(body_limit_for(&Method::POST, "/api/nothing-here"), SMALL_BODY_BYTES);
    }

    #[tokio::test]
    async fn sync_requests_past_those_running_and_waiting_are_told_to_come_back() {
        use axum::body::Body;
        use axum::http::StatusCode;
        // One runs, one waits; the handler holds until the test opens the gate.
        let gate = Arc::new(Semaphore::new(0));
        let admission = Arc::new(SyncAdmission::new(1, 1, Duration::from_millis(300)));
        let app = {
            let gate = gate.clone();
            axum::Router::new()
                .route("/api/sync", axum::routing::post(move || async move { drop(gate.acquire().await); "ok" }))
                .layer(axum::middleware::from_fn_with_state(admission, admit_sync))
        };
        let call = |app: axum::Router| async move {
            let res = app.oneshot(Request::post("/api/sync").body(Body::empty()).unwrap()).await.unwrap();
            (res.status(), res.headers().get(header::RETRY_AFTER).cloned())
        };
        let running = tokio::spawn(call(app.clone()));
        tokio::time::sleep(Duration::from_millis(20)).await;
        let waiting = tokio::spawn(call(app.clone()));
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (status, retry_after) = call(app.clone()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "neither a place to run nor to wait");
        assert!(retry_after.is_some());
        // The waiting one gives up after its longest wait, also retryable.
        assert_eq!(waiting.await.unwrap().0, StatusCode::SERVICE_UNAVAILABLE);
        gate.add_permits(10);
        assert_eq!(running.await.unwrap().0, StatusCode::OK);
        assert_eq!(call(app).await.0, StatusCode::OK, "admitted again once the others are done");
    }

    #[tokio::test]
    // The guard is the gate the blocking work waits on; holding it across awaits is the point.
    #[allow(clippy::await_holding_lock)]
    async fn the_hashing_pool_answers_busy_past_its_queue() {
        let pool = Arc::new(HashingPool::default());
        // The verifications in progress block until the test lets them go.
        let gate = Arc::new(std::sync::RwLock::new(()));
        let closed = gate.write().unwrap();
        let mut running = Vec::new();
        for _ in 0..pool.permits() + HASHING_QUEUE {
            let (pool, gate) = (pool.clone(), gate.clone());
            running.push(tokio::spawn(async move { pool.run(move || drop(gate.read())).await }));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(matches!(pool.run(|| ()).await, Err(ApiError::Busy(_, _))), "full");
        drop(closed);
        for r in running {
            assert!(r.await.unwrap().is_ok());
        }
        assert!(pool.run(|| ()).await.is_ok(), "free again");
        // A request dropped while it waits leaves no trace in the counts.
        let closed = gate.write().unwrap();
        let waiting: Vec<_> = (0..pool.permits() + HASHING_QUEUE)
            .map(|_| {
                let (pool, gate) = (pool.clone(), gate.clone());
                tokio::spawn(async move { pool.run(move || drop(gate.read())).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        waiting.iter().for_each(|w| w.abort());
        drop(closed);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(pool.run(|| ()).await.is_ok(), "the dropped requests gave their places back");
    }
}
