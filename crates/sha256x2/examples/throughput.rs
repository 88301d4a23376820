//! Prints the throughput of one stream (sha2) against two streams hashed together.
//! `cargo run --release -p evpack-sha256x2 --example throughput`
use std::time::Instant;

fn main() {
    let n = 1 << 20;
    let a: Vec<u8> = (0..n).map(|i| (i * 7) as u8).collect();
    let b: Vec<u8> = (0..n).map(|i| (i * 13 + 1) as u8).collect();
    let rounds = 400;
    let t = Instant::now();
    let mut one = evpack_sha256x2::Sha256::new();
    for _ in 0..rounds {
        one.update(&a);
    }
    let single = (rounds * n) as f64 / t.elapsed().as_secs_f64() / 1e9;
    let _ = one.finalize();
    let t = Instant::now();
    let (mut x, mut y) = (
        evpack_sha256x2::Sha256::new(),
        evpack_sha256x2::Sha256::new(),
    );
    for _ in 0..rounds {
        evpack_sha256x2::update_pair(&mut x, &a, &mut y, &b);
    }
    let pair = (2 * rounds * n) as f64 / t.elapsed().as_secs_f64() / 1e9;
    let _ = (x.finalize(), y.finalize());
    println!("one stream  {single:.2} GB/s");
    println!("two streams {pair:.2} GB/s in all ({:.2}x)", pair / single);
}
