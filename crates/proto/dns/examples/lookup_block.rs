//! Looks every address of an IPv4 block up on one server and prints the counts and the rate:
//! the resolver alone, without store or output (for profiling).
//!
//! `cargo run --release -p otsensor-dns --example lookup_block -- 127.0.0.54:5300 10.20.0.0 16 [in-flight] [current|multi|spawn]`

use otsensor_core::Scope;
use otsensor_dns::{LookupStatus, Resolver, ResolverConfig};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let server: SocketAddr = args
        .get(1)
        .map_or("127.0.0.54:5300", |s| s)
        .parse()
        .expect("server");
    let base: Ipv4Addr = args
        .get(2)
        .map_or("10.20.0.0", |s| s)
        .parse()
        .expect("base");
    let prefix: u32 = args.get(3).map_or("16", |s| s).parse().expect("prefix");
    let in_flight: usize = args.get(4).map_or("100", |s| s).parse().expect("in flight");
    let flavor = args.get(5).map_or("multi", |s| s.as_str());
    let rt = match flavor {
        "current" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        _ => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build(),
    }
    .expect("runtime");
    let mut config = ResolverConfig::new(server);
    config.rate = 0;
    config.in_flight = in_flight;
    let resolver = Resolver::new(config, &Scope::default()).expect("resolver");
    let first = u32::from(base);
    let count = 1u32 << (32 - prefix);
    let addrs = (first..first + count).map(|n| IpAddr::V4(Ipv4Addr::from(n)));
    let (mut found, mut other) = (0u32, 0u32);
    let start = Instant::now();
    let mut count_one = move |l: otsensor_dns::Lookup| {
        if l.status == LookupStatus::Found {
            found += 1;
        } else {
            other += 1;
        }
        (found, other)
    };
    let mut last = (0, 0);
    if flavor == "spawn" {
        // on a worker thread of the multi-thread runtime (which drives the IO itself)
        last = rt
            .block_on(rt.spawn(async move {
                let mut last = (0, 0);
                resolver
                    .lookup_all(addrs, &mut |l| last = count_one(l))
                    .await
                    .expect("lookups");
                last
            }))
            .expect("task");
    } else {
        rt.block_on(resolver.lookup_all(addrs, &mut |l| last = count_one(l)))
            .expect("lookups");
    }
    let (found, other) = last;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{count} lookups in {secs:.3} s: {:.0}/s, {found} found, {other} other ({flavor}, {in_flight} in flight)",
        f64::from(count) / secs
    );
}
