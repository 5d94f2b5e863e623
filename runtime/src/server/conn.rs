//! What a connection may cost the server: kube-apiserver's timeouts (32 s to send a request's
//! headers, 90 s idle between requests), its HTTP/2 settings, and — beyond upstream, which relies on
//! the file descriptor limit alone — a cap on connections that hold no request, so that no number
//! of silent or dribbling clients can use up the descriptors and lock everyone else out.
//!
//! A connection is *busy* while it has a request in flight (a watch is busy for as long as it
//! streams) and is then never closed here; otherwise it is *waiting*: fresh (handshake done, no
//! request yet), idle (between requests) or reading (part of a next request came). Waiting
//! connections past their deadline are closed, and when more than [`ConnLimits::max_waiting`]
//! are waiting, the one waiting longest is closed to make room for a new one.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// Upstream's `ReadHeaderTimeout`: a request's headers must arrive within this.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(32);
/// Upstream's `IdleTimeout` (HTTP/1.1 keep-alive and HTTP/2 alike).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Upstream's `MaxHeaderBytes` (1 MiB), for HTTP/1.1 and HTTP/2 header lists alike.
pub const MAX_HEADER_BYTES: usize = 1 << 20;
/// Upstream's HTTP/2 per-stream receive window and largest frame ("99% of serialized resources").
pub const H2_STREAM_WINDOW: u32 = 256 * 1024;
/// Upstream's HTTP/2 concurrent streams per connection (`--http2-max-streams-per-connection` 0).
pub const H2_MAX_STREAMS: u32 = 250;

/// Limits for connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Time to send a request's headers, from the connection's start or a next request's first byte.
    pub header_read: Duration,
    /// Time a connection may wait between requests.
    pub idle: Duration,
    /// Most connections waiting at once; more close the one waiting longest.
    pub max_waiting: usize,
}

impl ConnLimits {
    /// Upstream's timeouts, and a waiting cap of half the file descriptors this process may open
    /// (raised first to its hard limit, as Go programs such as kube-apiserver do at start).
    pub fn from_environment() -> Self {
        let descriptors = raise_open_files_limit();
        ConnLimits { header_read: HEADER_READ_TIMEOUT, idle: IDLE_TIMEOUT, max_waiting: (descriptors / 2).max(16) }
    }
}

/// Raises the soft limit on open files to the hard one; the limit in effect after.
fn raise_open_files_limit() -> usize {
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource};
        let limit = getrlimit(Resource::Nofile);
        let raised = rustix::process::Rlimit { current: limit.maximum, maximum: limit.maximum };
        let current = match setrlimit(Resource::Nofile, raised) {
            Ok(()) => limit.maximum,
            Err(_) => limit.current,
        };
        current.map_or(1 << 20, |n| usize::try_from(n).unwrap_or(usize::MAX))
    }
    #[cfg(not(unix))]
    {
        1 << 20
    }
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Accepted (and handshaken): no request yet.
    Fresh(Instant),
    /// Between requests.
    Idle(Instant),
    /// Bytes of a next request came at this instant; its headers are due.
    Reading(Instant),
    /// A request is in flight.
    Busy,
}

/// One connection's state, shared by its task, its requests and the tracker.
#[derive(Debug)]
pub struct Conn {
    id: u64,
    phase: Mutex<Phase>,
    in_flight: AtomicUsize,
    /// HTTP/2: frames between requests (pings, settings) do not start a header deadline.
    multiplexed: AtomicBool,
    close: Notify,
}

impl Conn {
    fn lock(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// When the connection has been waiting since, if it is waiting.
    fn waiting_since(&self) -> Option<Instant> {
        match *self.lock() {
            Phase::Fresh(t) | Phase::Idle(t) | Phase::Reading(t) => Some(t),
            Phase::Busy => None,
        }
    }

    /// Whether a waiting connection is past its deadline.
    fn expired(&self, limits: &ConnLimits, now: Instant) -> bool {
        match *self.lock() {
            Phase::Fresh(t) | Phase::Reading(t) => now.duration_since(t) > limits.header_read,
            Phase::Idle(t) => now.duration_since(t) > limits.idle,
            Phase::Busy => false,
        }
    }

    fn on_bytes_read(&self) {
        if self.multiplexed.load(Ordering::Relaxed) {
            return;
        }
        let mut phase = self.lock();
        if let Phase::Idle(_) = *phase {
            *phase = Phase::Reading(Instant::now());
        }
    }

    /// A request starts: the connection is busy until the returned guard (kept by its response
    /// body) is dropped.
    pub fn request_started(self: &Arc<Self>) -> InFlight {
        // Counted under the phase's lock, as the end of a request is: concurrent HTTP/2 streams
        // starting and ending can never leave a busy connection marked idle.
        let mut phase = self.lock();
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        *phase = Phase::Busy;
        drop(phase);
        InFlight(self.clone())
    }
}

/// A request in flight on a [`Conn`].
#[derive(Debug)]
pub struct InFlight(Arc<Conn>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut phase = self.0.lock();
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            *phase = Phase::Idle(Instant::now());
        }
    }
}

/// Every open connection of a server.
#[derive(Debug)]
pub struct Tracker {
    limits: ConnLimits,
    next: AtomicU64,
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
}

impl Tracker {
    /// No connections yet.
    pub fn new(limits: ConnLimits) -> Arc<Self> {
        Arc::new(Tracker { limits, next: AtomicU64::new(0), conns: Mutex::new(HashMap::new()) })
    }

    /// The limits in effect.
    pub fn limits(&self) -> ConnLimits {
        self.limits
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new connection, fresh; if that makes too many waiting, the one waiting longest is told
    /// to close. Deregistered when the returned handle is dropped.
    pub fn open(self: &Arc<Self>) -> Registered {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            id,
            phase: Mutex::new(Phase::Fresh(Instant::now())),
            in_flight: AtomicUsize::new(0),
            multiplexed: AtomicBool::new(false),
            close: Notify::new(),
        });
        let mut conns = self.lock();
        conns.insert(id, conn.clone());
        if conns.len() > self.limits.max_waiting {
            Self::evict_longest_waiting(&conns, self.limits.max_waiting);
        }
        drop(conns);
        Registered { tracker: self.clone(), conn }
    }

    /// Out of file descriptors: the connection waiting longest is told to close.
    pub fn make_room(&self) {
        Self::evict_longest_waiting(&self.lock(), 0);
    }

    /// Tells the connection waiting longest to close, when more than `cap` are waiting.
    fn evict_longest_waiting(conns: &HashMap<u64, Arc<Conn>>, cap: usize) {
        let waiting: Vec<(Instant, &Arc<Conn>)> = conns.values().filter_map(|c| c.waiting_since().map(|t| (t, c))).collect();
        if waiting.len() <= cap {
            return;
        }
        if let Some((_, oldest)) = waiting.iter().min_by_key(|(t, c)| (*t, c.id)) {
            oldest.close.notify_one();
        }
    }

    /// How many connections are open and how many of them wait (for tests and logs).
    pub fn counts(&self) -> (usize, usize) {
        let conns = self.lock();
        (conns.len(), conns.values().filter(|c| c.waiting_since().is_some()).count())
    }
}

/// A connection's registration; closing it (dropping this) deregisters it.
#[derive(Debug)]
pub struct Registered {
    tracker: Arc<Tracker>,
    conn: Arc<Conn>,
}

impl Registered {
    /// The connection's state.
    pub fn conn(&self) -> &Arc<Conn> {
        &self.conn
    }

    /// Handshake done (TLS): the header deadline starts now; `multiplexed` when HTTP/2 was agreed.
    pub fn handshaken(&self, multiplexed: bool) {
        self.conn.multiplexed.store(multiplexed, Ordering::Relaxed);
        let mut phase = self.conn.lock();
        if let Phase::Fresh(_) = *phase {
            *phase = Phase::Fresh(Instant::now());
        }
    }

    /// Completes when the connection must close: past a deadline while waiting, or evicted.
    pub async fn must_close(&self) {
        let limits = self.tracker.limits;
        let tick = Duration::from_secs(1).min(limits.header_read);
        loop {
            tokio::select! {
                _ = self.conn.close.notified() => {
                    if self.conn.waiting_since().is_some() {
                        return;
                    }
                }
                _ = tokio::time::sleep(tick) => {
                    if self.conn.expired(&limits, Instant::now()) {
                        return;
                    }
                }
            }
        }
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.tracker.lock().remove(&self.conn.id);
    }
}

/// A connection's byte stream, telling its [`Conn`] when bytes arrive.
pub struct Watched<I> {
    io: I,
    conn: Arc<Conn>,
}

impl<I> Watched<I> {
    /// Wraps `io`.
    pub fn new(io: I, conn: Arc<Conn>) -> Self {
        Watched { io, conn }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.conn.on_bytes_read();
        }
        polled
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[std::io::IoSlice<'_>]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// A response body that keeps its request in flight until it is sent (or dropped).
pub struct Tracked<B> {
    body: B,
    _in_flight: Option<InFlight>,
}

impl<B> Tracked<B> {
    /// `body`, keeping `in_flight` alive as long as it is.
    pub fn new(body: B, in_flight: Option<InFlight>) -> Self {
        Tracked { body, _in_flight: in_flight }
    }
}

impl<B: HttpBody<Data = Bytes> + Unpin> HttpBody for Tracked<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_waiting: usize) -> ConnLimits {
        ConnLimits { header_read: Duration::from_millis(50), idle: Duration::from_millis(200), max_waiting }
    }

    #[tokio::test]
    async fn the_longest_waiting_connection_makes_room() {
        let tracker = Tracker::new(limits(2));
        let first = tracker.open();
        let second = tracker.open();
        let busy = tracker.open();
        let _request = busy.conn().request_started();
        // Two wait, one is busy: nobody is told to close.
        assert_eq!(tracker.counts(), (3, 2));
        let third = tracker.open();
        // Three wait now: the first one goes (a busy one never does).
        tokio::time::timeout(Duration::from_millis(20), first.must_close()).await.expect("the first is evicted");
        assert!(tokio::time::timeout(Duration::from_millis(20), second.must_close()).await.is_err());
        assert!(tokio::time::timeout(Duration::from_millis(20), busy.must_close()).await.is_err());
        drop((first, third));
        assert_eq!(tracker.counts(), (2, 1));
    }

    #[test]
    fn overlapping_requests_keep_the_connection_busy() {
        let tracker = Tracker::new(limits(100));
        let conn = tracker.open();
        let first = conn.conn().request_started();
        let second = conn.conn().request_started();
        drop(first);
        assert!(conn.conn().waiting_since().is_none(), "one request is still in flight");
        drop(second);
        assert!(conn.conn().waiting_since().is_some());
    }

    #[tokio::test]
    async fn deadlines_follow_the_phase() {
        let tracker = Tracker::new(limits(100));
        let conn = tracker.open();
        let started = Instant::now();
        conn.must_close().await;
        assert!(started.elapsed() >= Duration::from_millis(50), "fresh: the header deadline");
        // A finished request leaves it idle: the longer idle deadline applies.
        drop(conn.conn().request_started());
        let started = Instant::now();
        conn.must_close().await;
        assert!(started.elapsed() >= Duration::from_millis(200), "idle: {:?}", started.elapsed());
        // In flight: never closed.
        let _request = conn.conn().request_started();
        assert!(tokio::time::timeout(Duration::from_millis(400), conn.must_close()).await.is_err());
    }
}
