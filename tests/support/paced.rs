//! The browser's sync transport, natively: requests sized from the measured link and given up
//! when the transfer stops moving (`danvan::sync::pace`, the rules `src/client/net/sync.rs` follows
//! with fetch), over reqwest. Tests and benchmarks run the shared session code through it, so
//! what they measure is what a phone does.

// Each test binary uses part of this file.
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use danvan::sync::pace::{self, Body, BodyError, Either, Pace};
use danvan::sync::session::Transport;
use danvan::sync::{SyncRequest, SyncResponse};

pub struct Paced {
    client: reqwest::Client,
    url: String,
    token: String,
    /// Measured afresh by each transport, as each browser session does.
    pace: Cell<Pace>,
    stall: Duration,
    pub requests: Cell<usize>,
    /// Request and response bodies, as sent and received.
    pub bytes: Cell<usize>,
    /// The cursor and feed budget of each request, in order.
    pub asked: RefCell<Vec<(u64, Option<u32>)>>,
}

impl Paced {
    /// The sync endpoint of the server at `base` (e.g. "http://10.231.7.2:8080").
    pub fn new(base: &str, token: &str) -> Paced {
        Paced {
            // No timeout of its own: the deadlines are the pace's.
            client: reqwest::Client::new(),
            url: format!("{base}/api/sync"),
            token: token.to_string(),
            pace: Cell::new(Pace::default()),
            stall: pace::STALL,
            requests: Cell::new(0),
            bytes: Cell::new(0),
            asked: RefCell::new(Vec::new()),
        }
    }

    /// A shorter stall timeout (tests that cut the link do not wait 25 s).
    pub fn with_stall(self, stall: Duration) -> Paced {
        Paced { stall, ..self }
    }

    pub fn pace(&self) -> Pace {
        self.pace.get()
    }
}

struct ResponseBody(reqwest::Response);

impl Body for ResponseBody {
    type Chunk = Vec<u8>;
    type Error = reqwest::Error;
    async fn chunk(&mut self) -> Result<Option<Vec<u8>>, reqwest::Error> {
        Ok(self.0.chunk().await?.map(|b| b.to_vec()))
    }
}

impl Transport for Paced {
    type Error = String;
    async fn post(&self, request: &SyncRequest) -> Result<SyncResponse, String> {
        self.asked.borrow_mut().push((request.cursor, request.feed_budget));
        let body = danvan::sync::encode(request);
        let sent = body.len();
        let deadline = self.pace.get().send_timeout(sent);
        let started = Instant::now();
        self.requests.set(self.requests.get() + 1);
        let send = self
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .header("content-type", danvan::sync::CONTENT_TYPE)
            .body(body)
            .send();
        let res = match pace::first(send, tokio::time::sleep(deadline)).await {
            Either::Left(r) => r.map_err(|e| e.to_string())?,
            Either::Right(()) => return Err(format!("no answer within {} s", deadline.as_secs())),
        };
        let status = res.status();
        let mut body = ResponseBody(res);
        let bytes = pace::read_body(&mut body, tokio::time::sleep, self.stall).await.map_err(|e| match e {
            BodyError::Stalled(d) => format!("stalled: no data for {} s", d.as_secs()),
            BodyError::Failed(e) => e.to_string(),
        })?;
        if !status.is_success() {
            return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes)));
        }
        self.bytes.set(self.bytes.get() + sent + bytes.len());
        let mut measured = self.pace.get();
        measured.observe(sent, bytes.len(), started.elapsed());
        self.pace.set(measured);
        danvan::sync::decode(&bytes).map_err(|e| e.to_string())
    }
    fn feed_budget(&self) -> Option<u32> {
        Some(self.pace.get().feed_budget())
    }
    fn request_bytes(&self) -> usize {
        self.pace.get().request_bytes()
    }
}
