//! The resolver against real authoritative servers from the testbed (nsd and knot serving the
//! generated zones, an nsd that refuses everything), a silent socket and a closed port.
//!
//! Needs `testbed/start.sh nsd knot dns-refuse` (scripts/test.sh starts them). Every expected
//! name comes from testbed/config.sh.

use otsensor_core::Scope;
use otsensor_dns::{Lookup, LookupStatus, Resolver, ResolverConfig};
use otsensor_testkit::{addr, require_tcp_peer, var};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// The two servers under test: (peer name, address).
fn servers() -> Vec<(&'static str, SocketAddr)> {
    let nsd = addr("NSD_IP", "NSD_PORT");
    let knot = addr("KNOT_IP", "KNOT_PORT");
    require_tcp_peer(nsd, "nsd");
    require_tcp_peer(knot, "knot");
    vec![("nsd", nsd), ("knot", knot)]
}

fn resolver(server: SocketAddr) -> Resolver {
    let mut config = ResolverConfig::new(server);
    config.rate = 0;
    Resolver::new(config, &Scope::default()).unwrap()
}

async fn lookup_all(resolver: &Resolver, addrs: Vec<IpAddr>) -> BTreeMap<IpAddr, Lookup> {
    let mut out = BTreeMap::new();
    resolver
        .lookup_all(addrs, &mut |l| {
            assert!(out.insert(l.address, l).is_none(), "one result per address");
        })
        .await
        .unwrap();
    out
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// `10.21` + `.0.N`
fn special(n: u8) -> IpAddr {
    ip(&format!("{}.0.{n}", var("DNS_SPECIAL_NET")))
}

fn no_dot(name: &str) -> String {
    name.trim_end_matches('.').to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_address_of_a_block_of_the_16_has_its_exact_name() {
    let net = var("DNS_REV_NET");
    let domain = var("DNS_DOMAIN");
    let (o1, o2) = net.split_once('.').unwrap();
    for (peer, server) in servers() {
        // 4096 addresses: 10.20.0.0 - 10.20.15.255
        let addrs: Vec<IpAddr> = (0u32..4096)
            .map(|i| {
                IpAddr::V4(Ipv4Addr::new(
                    o1.parse().unwrap(),
                    o2.parse().unwrap(),
                    (i >> 8) as u8,
                    i as u8,
                ))
            })
            .collect();
        let results = lookup_all(&resolver(server), addrs.clone()).await;
        assert_eq!(results.len(), addrs.len(), "{peer}");
        for a in addrs {
            let IpAddr::V4(v4) = a else { unreachable!() };
            let [_, _, x, y] = v4.octets();
            let l = &results[&a];
            assert_eq!(
                l.status,
                LookupStatus::Found,
                "{peer} {a}: {}",
                l.describe()
            );
            assert_eq!(
                l.names,
                [format!("dev-{o1}-{o2}-{x}-{y}.{domain}")],
                "{peer} {a}"
            );
            assert!(!l.tcp);
        }
    }
}

#[tokio::test]
async fn the_special_cases_are_reported_exactly_by_both_servers() {
    let hosts: Vec<u8> = var("DNS_HOSTS")
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let domain = var("DNS_DOMAIN");
    for (peer, server) in servers() {
        let r = resolver(server);
        // host-N names, and the gap
        let mut addrs: Vec<IpAddr> = hosts.iter().map(|n| special(*n)).collect();
        let gap = ip(&var("DNS_GAP_IP"));
        addrs.push(gap);
        let results = lookup_all(&r, addrs).await;
        for n in &hosts {
            let l = &results[&special(*n)];
            assert_eq!(l.status, LookupStatus::Found, "{peer}: {}", l.describe());
            assert_eq!(l.names, [format!("host-{n}.plant.{domain}")]);
        }
        let l = &results[&gap];
        assert_eq!(l.status, LookupStatus::NxDomain, "{peer}: {}", l.describe());
        assert!(l.names.is_empty());
        assert!(l.describe().contains("NXDOMAIN"), "{}", l.describe());

        // two PTR records: both, sorted
        let l = r.lookup(ip(&var("DNS_TWO_PTR_IP"))).await.unwrap();
        let mut want: Vec<String> = var("DNS_TWO_PTR_NAMES")
            .split_whitespace()
            .map(no_dot)
            .collect();
        // sorted label by label: hmi-10.plant... before hmi-10-backup.plant...
        want.sort_by_key(|n| n.split('.').map(str::to_string).collect::<Vec<_>>());
        assert_eq!(l.status, LookupStatus::Found, "{peer}");
        assert_eq!(l.names, want, "{peer}");
        assert_eq!(l.fqdn(), Some(want[0].as_str()));

        // the long name comes whole (the settings cut it for display)
        let l = r.lookup(ip(&var("DNS_LONG_IP"))).await.unwrap();
        assert_eq!(l.names, [no_dot(&var("DNS_LONG_NAME"))], "{peer}");

        // forty PTR records: truncated over UDP, whole over TCP
        let l = r.lookup(ip(&var("DNS_MANY_IP"))).await.unwrap();
        let count: usize = var("DNS_MANY_COUNT").parse().unwrap();
        assert_eq!(l.status, LookupStatus::Found, "{peer}: {}", l.describe());
        assert!(l.tcp, "{peer}: asked again over TCP");
        assert_eq!(l.names.len(), count, "{peer}");
        assert_eq!(l.names[0], format!("many-12-01.plant.{domain}"));
        assert_eq!(
            l.names[count - 1],
            format!("many-12-{count}.plant.{domain}")
        );

        // the SERVFAIL zone
        let l = r
            .lookup(ip(&format!("{}.0.1", var("DNS_SERVFAIL_NET"))))
            .await
            .unwrap();
        assert_eq!(l.status, LookupStatus::ServFail, "{peer}: {}", l.describe());
        assert!(l.describe().contains("SERVFAIL"));
    }
}

#[tokio::test]
async fn rfc_2317_delegation_is_followed_through_the_cname() {
    let net: ipnet::Ipv4Net = var("DNS_RFC2317_NET").parse().unwrap();
    let gap = ip(&var("DNS_RFC2317_GAP_IP"));
    let domain = var("DNS_DOMAIN");
    let first = net.network().octets()[3];
    let child = format!(
        "{first}/{}.{}",
        net.prefix_len(),
        reverse_parent(net.network())
    );
    for (peer, server) in servers() {
        let addrs: Vec<IpAddr> = net
            .hosts()
            .chain([net.network(), net.broadcast()])
            .map(IpAddr::V4)
            .collect();
        let results = lookup_all(&resolver(server), addrs).await;
        assert_eq!(results.len(), 64, "{peer}");
        for (a, l) in &results {
            let IpAddr::V4(v4) = a else { unreachable!() };
            let d = v4.octets()[3];
            assert_eq!(l.aliases, [format!("{d}.{child}")], "{peer} {a}");
            if *a == gap {
                assert_eq!(
                    l.status,
                    LookupStatus::NxDomain,
                    "{peer} {a}: {}",
                    l.describe()
                );
                assert_eq!(l.asked(), format!("{d}.{child}"));
            } else {
                assert_eq!(
                    l.status,
                    LookupStatus::Found,
                    "{peer} {a}: {}",
                    l.describe()
                );
                assert_eq!(l.names, [format!("cell-{d}.line-4.{domain}")], "{peer} {a}");
            }
        }
    }
}

/// `C.B.A.in-addr.arpa` of A.B.C.D.
fn reverse_parent(a: Ipv4Addr) -> String {
    let [o1, o2, o3, _] = a.octets();
    format!("{o3}.{o2}.{o1}.in-addr.arpa")
}

#[tokio::test]
async fn a_refusing_server_is_reported_as_refused() {
    let server = addr("DNS_REFUSE_IP", "DNS_REFUSE_PORT");
    require_tcp_peer(server, "dns-refuse");
    let l = resolver(server).lookup(ip("10.20.1.2")).await.unwrap();
    assert_eq!(l.status, LookupStatus::Refused, "{}", l.describe());
    assert!(l.describe().contains("REFUSED"));
    assert_eq!(l.udp_queries, 1, "no retry of a refusal");
}

#[tokio::test]
async fn silence_is_a_timeout_after_every_retry() {
    // a socket of our own that reads nothing and answers nothing
    let silent = std::net::UdpSocket::bind((var("DNS_CLOSED_IP").as_str(), 0)).unwrap();
    let server = silent.local_addr().unwrap();
    let mut config = ResolverConfig::new(server);
    config.timeout = Duration::from_millis(700);
    let r = Resolver::new(config, &Scope::default()).unwrap();
    let results = lookup_all(&r, vec![ip("10.20.0.1"), ip("10.20.0.2"), ip("fd00::1")]).await;
    assert_eq!(results.len(), 3);
    for l in results.values() {
        assert_eq!(l.status, LookupStatus::Timeout, "{}", l.describe());
        assert_eq!(l.udp_queries, 3);
        assert!(
            l.describe()
                .starts_with(&format!("no answer from {server}")),
            "{}",
            l.describe()
        );
    }
    drop(silent);
}

#[tokio::test]
async fn a_closed_port_is_reported_as_unreachable() {
    let server = addr("DNS_CLOSED_IP", "DNS_CLOSED_PORT");
    let l = resolver(server).lookup(ip("10.20.0.1")).await.unwrap();
    assert_eq!(l.status, LookupStatus::Unreachable, "{}", l.describe());
    assert!(
        l.describe().contains("ICMP port unreachable"),
        "{}",
        l.describe()
    );
}
