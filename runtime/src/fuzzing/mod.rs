//! The fuzzing harness (feature `fuzzing`): a time-budgeted driver over proptest's runner, with
//! shrinking and a printed seed, generators of inputs (JSON values, schema-shaped objects, selector
//! and JSONPath grammars, byte mutations) and a check that processing time grows linearly.
//!
//! Every fuzz target is an ordinary `#[test]` named `fuzz_*` (in the lib tests and in
//! `tests/proto.rs`), so the suite runs each one briefly; `cargo xtask fuzz` runs them longer.
//! The environment steers a run:
//! - `KAPI_FUZZ_SECONDS`: the time each target runs (default [`DEFAULT_SECONDS`]);
//! - `KAPI_FUZZ_SEED`: the seed (default: from the clock; every run prints the one it used, and a
//!   failure names it, so `KAPI_FUZZ_SEED=<seed>` replays the same inputs). `cargo xtask test`
//!   sets a fixed one, so the suite passes or fails by the code alone; `cargo xtask fuzz` explores.
//!
//! A failing input is shrunk (JSON values lose keys and items, strings characters, bytes runs)
//! before it is reported. A stack overflow cannot be caught: it aborts the test binary, which fails
//! the run all the same (the targets run on the default 2 MiB test thread stack, far below the
//! server's threads' [`crate::apimachinery::json::STACK_SIZE`]).

pub mod generate;
#[cfg(test)]
mod targets;

use std::fmt::Debug;
use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

pub use generate::{Gen, Shrink, Source};

/// What a fuzz target's property returns (`prop_assert!` and friends produce it).
pub type Outcome = Result<(), TestCaseError>;

/// Seconds each target runs in the suite when `KAPI_FUZZ_SECONDS` is not set.
pub const DEFAULT_SECONDS: f64 = 0.4;

/// What a finished target did.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Inputs tried.
    pub inputs: u64,
    /// Time spent.
    pub elapsed: Duration,
    /// The slowest input's time.
    pub slowest: Duration,
}

/// The seed of this run (`KAPI_FUZZ_SEED`, else from the clock).
pub fn seed() -> u64 {
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| {
        std::env::var("KAPI_FUZZ_SEED")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                splitmix(now.as_nanos() as u64) % 1_000_000_000
            })
    })
}

/// The time each target runs (`KAPI_FUZZ_SECONDS`, else [`DEFAULT_SECONDS`]).
pub fn budget() -> Duration {
    let secs = std::env::var("KAPI_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(DEFAULT_SECONDS);
    Duration::from_secs_f64(secs.clamp(0.0, 86_400.0))
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The runner of target `name`: its own stream of the run's seed.
fn runner(name: &str) -> TestRunner {
    let mut x = seed()
        ^ name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(8) {
        x = splitmix(x);
        chunk.copy_from_slice(&x.to_le_bytes());
    }
    let config = Config {
        failure_persistence: None,
        max_shrink_iters: 20_000,
        max_shrink_time: 60_000,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// Runs `test` on inputs from `strategy` for the run's budget (at least a few inputs). A failure
/// (an `Err` or a panic) is shrunk and reported with the seed that replays it.
pub fn fuzz<S>(name: &str, strategy: S, test: impl Fn(S::Value) -> Outcome) -> Stats
where
    S: Strategy,
    S::Value: Debug,
{
    const MIN_INPUTS: u64 = 16;
    let budget = budget();
    let mut runner = runner(name);
    let started = Instant::now();
    let mut stats = Stats {
        inputs: 0,
        elapsed: Duration::ZERO,
        slowest: Duration::ZERO,
    };
    while stats.inputs < MIN_INPUTS || started.elapsed() < budget {
        let tree = match strategy.new_tree(&mut runner) {
            Ok(tree) => tree,
            Err(why) => panic!("fuzz {name}: the generator failed: {why}"),
        };
        let t = Instant::now();
        let result = runner.run_one(tree, &test);
        stats.slowest = stats.slowest.max(t.elapsed());
        stats.inputs += 1;
        match result {
            Ok(_) => {}
            Err(TestError::Fail(why, input)) => panic!(
                "fuzz {name} failed after {} inputs (replay: KAPI_FUZZ_SEED={}): {why}\nminimal input: {input:#?}",
                stats.inputs,
                seed()
            ),
            Err(TestError::Abort(why)) => panic!("fuzz {name}: aborted: {why}"),
        }
    }
    stats.elapsed = started.elapsed();
    eprintln!(
        "fuzz {name}: {} inputs in {:.2}s (slowest {:.1} ms), seed {}",
        stats.inputs,
        stats.elapsed.as_secs_f64(),
        stats.slowest.as_secs_f64() * 1e3,
        seed()
    );
    stats
}

/// How processing time grows with the input's size: `make(n)` builds an input of the same shape for
/// each size, `run` processes it and returns the input's size in bytes. Each size is timed five
/// times, interleaved with the others, and the best time kept (other processes share the CPU).
/// Fails when the time per byte at the largest size exceeds `max_ratio` times that at the smallest
/// in three measurements running: linear work keeps the ratio near 1, quadratic work multiplies it
/// by the ratio of the sizes. Returns (size, nanoseconds per byte).
pub fn assert_linear<I>(
    name: &str,
    sizes: &[usize],
    max_ratio: f64,
    make: impl Fn(usize) -> I,
    run: impl Fn(&I) -> usize,
) -> Vec<(usize, f64)> {
    let inputs: Vec<I> = sizes.iter().map(|&n| make(n)).collect();
    let mut text = Vec::new();
    for _attempt in 0..3 {
        let mut best = vec![(0usize, Duration::MAX); inputs.len()];
        for _round in 0..5 {
            for (input, best) in inputs.iter().zip(best.iter_mut()) {
                let t = Instant::now();
                let bytes = run(input);
                *best = (bytes, best.1.min(t.elapsed()));
            }
        }
        let table: Vec<(usize, f64)> = best
            .iter()
            .map(|(b, t)| (*b, t.as_nanos() as f64 / (*b).max(1) as f64))
            .collect();
        text = table
            .iter()
            .map(|(b, ns)| format!("{b} B: {ns:.1} ns/B"))
            .collect();
        eprintln!("growth {name}: {}", text.join(", "));
        match (table.first(), table.last()) {
            (Some(first), Some(last)) if last.1 > first.1 * max_ratio => continue,
            _ => return table,
        }
    }
    panic!(
        "{name}: time per byte grows with size (super-linear): {}",
        text.join(", ")
    );
}
