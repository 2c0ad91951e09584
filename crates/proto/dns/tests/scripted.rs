//! The resolver against scripted servers of the test's own, on a loopback address: answers out of
//! order among noise, the in-flight window, truncation and TCP, unreadable answers, CNAME
//! loops, other response codes, the rate limit, and the one request the crate may send.

use otsensor_core::Scope;
use otsensor_dns::codec::{CLASS_IN, HEADER_LEN, Header, OPCODE_QUERY, TYPE_CNAME, TYPE_PTR};
use otsensor_dns::{LookupStatus, Name, Resolver, ResolverConfig};
use otsensor_testkit::var;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

/// A query as the scripted server saw it.
#[derive(Debug, Clone)]
struct Seen {
    id: u16,
    name: Name,
    bytes: Vec<u8>,
}

/// Checks that `bytes` is the one request this crate may send and reads it.
fn read_query(bytes: &[u8]) -> Seen {
    let h = Header::parse(bytes).unwrap();
    assert!(!h.is_response());
    assert_eq!(h.opcode(), OPCODE_QUERY);
    assert!(h.recursion_desired());
    assert_eq!((h.qdcount, h.ancount, h.nscount, h.arcount), (1, 0, 0, 0));
    let (name, end) = Name::parse(bytes, HEADER_LEN).unwrap();
    assert_eq!(
        &bytes[end..],
        [0, 12, 0, 1],
        "QTYPE PTR, QCLASS IN, nothing after"
    );
    Seen {
        id: h.id,
        name,
        bytes: bytes.to_vec(),
    }
}

/// An answer to `q`: `flags` (AA, TC, RCODE...) and (owner, type, data) records.
fn answer(q: &Seen, flags: u16, records: &[(&Name, u16, &Name)]) -> Vec<u8> {
    let mut out = Vec::new();
    Header {
        id: q.id,
        flags: 0x8000 | 0x0100 | flags,
        qdcount: 1,
        ancount: records.len() as u16,
        nscount: 0,
        arcount: 0,
    }
    .emit(&mut out);
    q.name.emit(&mut out);
    out.extend_from_slice(&TYPE_PTR.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    for (owner, rtype, data) in records {
        owner.emit(&mut out);
        out.extend_from_slice(&rtype.to_be_bytes());
        out.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
        out.extend_from_slice(&(data.wire().len() as u16).to_be_bytes());
        data.emit(&mut out);
    }
    out
}

fn ptr(q: &Seen, target: &str) -> Vec<u8> {
    let t = Name::from_dotted(target).unwrap();
    answer(q, 0x0400, &[(&q.name, TYPE_PTR, &t)])
}

/// The name the scripted servers give an address: `h-<first label of the reverse name>.test`.
fn name_for(q: &Seen) -> String {
    let first = String::from_utf8(q.name.labels().next().unwrap().to_vec()).unwrap();
    format!("h-{first}.test")
}

/// A scripted UDP server: `script` turns every query into the datagrams to send back.
async fn udp_server<F>(script: F) -> (SocketAddr, Arc<Mutex<Vec<Seen>>>)
where
    F: FnMut(&Seen) -> Vec<Vec<u8>> + Send + 'static,
{
    let socket = UdpSocket::bind((var("DNS_CLOSED_IP").as_str(), 0))
        .await
        .unwrap();
    let addr = socket.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let mut script = script;
    tokio::spawn(async move {
        let mut buf = vec![0u8; 1500];
        loop {
            let Ok((n, from)) = socket.recv_from(&mut buf).await else {
                return;
            };
            let q = read_query(&buf[..n]);
            log.lock().unwrap().push(q.clone());
            for reply in script(&q) {
                let _ = socket.send_to(&reply, from).await;
            }
        }
    });
    (addr, seen)
}

fn resolver(server: SocketAddr, tune: impl FnOnce(&mut ResolverConfig)) -> Resolver {
    let mut config = ResolverConfig::new(server);
    config.rate = 0;
    config.timeout = Duration::from_millis(1500);
    tune(&mut config);
    Resolver::new(config, &Scope::default()).unwrap()
}

fn addrs(n: u8) -> Vec<IpAddr> {
    (1..=n).map(|i| IpAddr::from([10, 99, 0, i])).collect()
}

async fn run(r: &Resolver, list: Vec<IpAddr>) -> BTreeMap<IpAddr, otsensor_dns::Lookup> {
    let mut out = BTreeMap::new();
    r.lookup_all(list, &mut |l| {
        out.insert(l.address, l);
    })
    .await
    .unwrap();
    out
}

#[tokio::test]
async fn answers_out_of_order_among_noise_are_matched_by_id_and_question() {
    let mut held: Vec<Seen> = Vec::new();
    let (server, seen) = udp_server(move |q| {
        held.push(q.clone());
        if held.len() < 10 {
            return vec![];
        }
        // all ten at once, last first, each after three wrong datagrams
        let mut out = Vec::new();
        for q in held.drain(..).rev() {
            let mut wrong_id = ptr(&q, "wrong-id.test");
            wrong_id[0] ^= 0x55;
            let other = Seen {
                name: Name::from_dotted("1.2.3.4.in-addr.arpa").unwrap(),
                ..q.clone()
            };
            out.push(wrong_id);
            out.push(ptr(&other, "other-question.test"));
            out.push(vec![0xde, 0xad]);
            out.push(ptr(&q, &name_for(&q)));
        }
        out
    })
    .await;
    let results = run(&resolver(server, |c| c.in_flight = 16), addrs(10)).await;
    assert_eq!(results.len(), 10);
    for (a, l) in &results {
        let IpAddr::V4(v4) = a else { unreachable!() };
        assert_eq!(l.status, LookupStatus::Found, "{}", l.describe());
        assert_eq!(l.names, [format!("h-{}.test", v4.octets()[3])]);
        assert_eq!(l.udp_queries, 1);
    }
    assert_eq!(seen.lock().unwrap().len(), 10);
}

#[tokio::test]
async fn the_in_flight_window_bounds_outstanding_queries() {
    let outstanding = Arc::new(Mutex::new((0usize, 0usize))); // (now, most)
    let counter = outstanding.clone();
    let socket = UdpSocket::bind((var("DNS_CLOSED_IP").as_str(), 0))
        .await
        .unwrap();
    let server = socket.local_addr().unwrap();
    let socket = Arc::new(socket);
    tokio::spawn(async move {
        let mut buf = vec![0u8; 1500];
        loop {
            let Ok((n, from)) = socket.recv_from(&mut buf).await else {
                return;
            };
            let q = read_query(&buf[..n]);
            {
                let mut c = counter.lock().unwrap();
                c.0 += 1;
                c.1 = c.1.max(c.0);
            }
            let (socket, counter) = (socket.clone(), counter.clone());
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                counter.lock().unwrap().0 -= 1;
                let _ = socket.send_to(&ptr(&q, &name_for(&q)), from).await;
            });
        }
    });
    let results = run(&resolver(server, |c| c.in_flight = 4), addrs(40)).await;
    assert!(results.values().all(|l| l.status == LookupStatus::Found));
    let most = outstanding.lock().unwrap().1;
    assert!(most <= 4, "{most} queries outstanding at once, window 4");
    assert!(most >= 2, "queries are pipelined ({most} at most)");
}

#[tokio::test]
async fn a_lost_query_is_sent_again() {
    let mut first = true;
    let (server, seen) = udp_server(move |q| {
        if std::mem::take(&mut first) {
            vec![]
        } else {
            vec![ptr(q, &name_for(q))]
        }
    })
    .await;
    let l = resolver(server, |_| {})
        .lookup(IpAddr::from([10, 99, 0, 7]))
        .await
        .unwrap();
    assert_eq!(l.status, LookupStatus::Found);
    assert_eq!(l.udp_queries, 2);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].name, seen[1].name);
    assert_ne!(seen[0].id, seen[1].id, "a retry gets a new ID");
}

#[tokio::test]
async fn truncated_answers_are_asked_again_over_tcp() {
    let (server, _) = udp_server(|q| vec![answer(q, 0x0600, &[])]).await;
    let listener = TcpListener::bind(server).await.unwrap();
    let tcp_seen = Arc::new(Mutex::new(Vec::new()));
    let log = tcp_seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut len = [0u8; 2];
                stream.read_exact(&mut len).await.unwrap();
                let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
                stream.read_exact(&mut body).await.unwrap();
                let q = read_query(&body);
                log.lock().unwrap().push(q.clone());
                let names: Vec<Name> = (1..=3)
                    .map(|i| Name::from_dotted(&format!("n{i}.test")).unwrap())
                    .collect();
                let records: Vec<(&Name, u16, &Name)> =
                    names.iter().map(|n| (&q.name, TYPE_PTR, n)).collect();
                let reply = answer(&q, 0x0400, &records);
                let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
                framed.extend_from_slice(&reply);
                stream.write_all(&framed).await.unwrap();
            });
        }
    });
    let l = resolver(server, |_| {})
        .lookup(IpAddr::from([10, 99, 0, 12]))
        .await
        .unwrap();
    assert_eq!(l.status, LookupStatus::Found, "{}", l.describe());
    assert!(l.tcp);
    assert_eq!(l.names, ["n1.test", "n2.test", "n3.test"]);
    let tcp_seen = tcp_seen.lock().unwrap();
    assert_eq!(tcp_seen.len(), 1);
    assert_eq!(
        tcp_seen[0].bytes[HEADER_LEN..],
        Name::reverse(IpAddr::from([10, 99, 0, 12]))
            .wire()
            .iter()
            .copied()
            .chain([0, 12, 0, 1])
            .collect::<Vec<u8>>()[..],
        "the same question over TCP"
    );
}

#[tokio::test]
async fn a_failed_tcp_fallback_is_an_error_naming_tcp() {
    // truncated over UDP, and nothing listens on TCP
    let (server, _) = udp_server(|q| vec![answer(q, 0x0200, &[])]).await;
    let l = resolver(server, |_| {})
        .lookup(IpAddr::from([10, 99, 0, 12]))
        .await
        .unwrap();
    assert_eq!(l.status, LookupStatus::Error);
    let text = l.describe();
    assert!(text.contains("truncated over UDP, and TCP to"), "{text}");
    assert!(text.contains("connection refused"), "{text}");
}

#[tokio::test]
async fn unreadable_answers_end_in_an_error_saying_so() {
    // the right ID, then a header claiming an answer that is not there
    let (server, seen) = udp_server(|q| {
        let mut bad = answer(q, 0, &[]);
        bad[7] = 1;
        vec![bad]
    })
    .await;
    let l = resolver(server, |c| c.timeout = Duration::from_millis(600))
        .lookup(IpAddr::from([10, 99, 0, 1]))
        .await
        .unwrap();
    assert_eq!(l.status, LookupStatus::Error);
    assert!(
        l.describe().contains("only unreadable answers"),
        "{}",
        l.describe()
    );
    assert_eq!(seen.lock().unwrap().len(), 3, "each attempt made");
}

#[tokio::test]
async fn cname_loops_across_queries_are_cut() {
    let target = Name::from_dotted("1.0/25.99.10.in-addr.arpa").unwrap();
    let (server, seen) = udp_server(move |q| {
        // the reverse name points to `target`, and `target` back to the reverse name
        let back = Name::reverse(IpAddr::from([10, 99, 0, 1]));
        let to = if q.name == target { &back } else { &target };
        vec![answer(q, 0, &[(&q.name, TYPE_CNAME, to)])]
    })
    .await;
    let l = resolver(server, |_| {})
        .lookup(IpAddr::from([10, 99, 0, 1]))
        .await
        .unwrap();
    assert_eq!(l.status, LookupStatus::Error);
    assert!(l.describe().contains("CNAMEs loop"), "{}", l.describe());
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn other_response_codes_are_errors_naming_the_code() {
    let (server, _) = udp_server(|q| vec![answer(q, 4, &[])]).await;
    let l = resolver(server, |_| {})
        .lookup(IpAddr::from([10, 99, 0, 1]))
        .await
        .unwrap();
    assert_eq!(l.status, LookupStatus::Error);
    assert!(l.describe().contains("NOTIMP"), "{}", l.describe());
}

#[tokio::test]
async fn ipv6_addresses_are_asked_under_ip6_arpa() {
    let (server, seen) = udp_server(|q| vec![ptr(q, "v6-host.test")]).await;
    let a: IpAddr = "fd00:1::5".parse().unwrap();
    let l = resolver(server, |_| {}).lookup(a).await.unwrap();
    assert_eq!(l.names, ["v6-host.test"]);
    let name = seen.lock().unwrap()[0].name.to_string();
    assert_eq!(
        name,
        "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa"
    );
}

#[tokio::test]
async fn the_rate_limit_spaces_queries() {
    let (server, seen) = udp_server(|q| vec![ptr(q, &name_for(q))]).await;
    let start = std::time::Instant::now();
    let results = run(&resolver(server, |c| c.rate = 50), addrs(11)).await;
    assert_eq!(results.len(), 11);
    // 11 queries at 50/s: the limiter cannot send the last before 10 intervals of 20 ms (less
    // its 2 ms of slack) have passed: a lower bound, never flaky
    assert!(
        start.elapsed() >= Duration::from_millis(198),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(seen.lock().unwrap().len(), 11);
}
