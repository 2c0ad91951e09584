//! Walks subtrees or runs a whole switch discovery with otsensor's SNMP client, printing one JSON
//! line per walk: what the benchmark (bench/snmp) compares with net-snmp's `snmpbulkwalk`.
//!
//! ```text
//! walk [-v 1|2c|3] [-c COMMUNITY] [-u USER [-a AUTH -A PASS] [-x PRIV -X PASS] [-n CONTEXT]]
//!      [-t SECS] [-r RETRIES] [--vendor NAME] AGENT[:PORT] (OID... | --discover)
//! ```
//! Secrets may come from OTSENSOR_SNMP_COMMUNITY, OTSENSOR_SNMP_AUTH_PASS, OTSENSOR_SNMP_PRIV_PASS.

use otsensor_core::probe::Unpaced;
use otsensor_snmp::discovery::{DiscoveryOptions, discover};
use otsensor_snmp::walk::{BulkSize, WalkOptions, walk_subtree};
use otsensor_snmp::{Client, ClientConfig, Oid, Secret, Security, UsmUser, Version};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    version: Version,
    community: Option<String>,
    user: Option<String>,
    auth: Option<(String, String)>,
    privacy: Option<(String, String)>,
    context: String,
    timeout: f64,
    retries: u32,
    agent: SocketAddr,
    oids: Vec<Oid>,
    discover: bool,
    vendor: otsensor_snmp::VendorChoice,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut version = Version::V2c;
    let (mut community, mut user, mut auth_proto, mut priv_proto) = (None, None, None, None);
    let mut auth_pass = std::env::var("OTSENSOR_SNMP_AUTH_PASS").ok();
    let mut priv_pass = std::env::var("OTSENSOR_SNMP_PRIV_PASS").ok();
    let (mut context, mut timeout, mut retries) = (String::new(), 5.0, 1);
    let mut positional = Vec::new();
    let mut run_discovery = false;
    let mut vendor = otsensor_snmp::VendorChoice::Auto;
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "-v" => {
                version = match value()?.as_str() {
                    "1" => Version::V1,
                    "2c" => Version::V2c,
                    "3" => Version::V3,
                    v => return Err(format!("-v {v}: 1, 2c or 3")),
                }
            }
            "-c" => community = Some(value()?),
            "-u" => user = Some(value()?),
            "-a" => auth_proto = Some(value()?),
            "-A" => auth_pass = Some(value()?),
            "-x" => priv_proto = Some(value()?),
            "-X" => priv_pass = Some(value()?),
            "-n" => context = value()?,
            "-t" => timeout = value()?.parse().map_err(|_| "-t: seconds")?,
            "-r" => retries = value()?.parse().map_err(|_| "-r: a count")?,
            "--discover" => run_discovery = true,
            "--vendor" => vendor = value()?.parse()?,
            _ => positional.push(a),
        }
    }
    let community = community.or_else(|| std::env::var("OTSENSOR_SNMP_COMMUNITY").ok());
    let mut positional = positional.into_iter();
    let agent = positional.next().ok_or("no agent given")?;
    let agent: SocketAddr = agent
        .parse()
        .or_else(|_| format!("{agent}:161").parse())
        .map_err(|_| format!("{agent}: not an address"))?;
    let oids = positional
        .map(|o| o.parse::<Oid>())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Args {
        version,
        community,
        user,
        auth: auth_proto.zip(auth_pass),
        privacy: priv_proto.zip(priv_pass),
        context,
        timeout,
        retries,
        agent,
        oids,
        discover: run_discovery,
        vendor,
    })
}

fn security(args: &Args) -> Result<Security, String> {
    if args.version != Version::V3 {
        let community = args.community.clone().ok_or("-c COMMUNITY is needed")?;
        return Ok(Security::Community {
            version: args.version,
            community: Secret::new(community),
        });
    }
    let user = UsmUser {
        name: args.user.clone().ok_or("-u USER is needed")?,
        auth: match &args.auth {
            Some((p, s)) => Some((p.parse()?, Secret::new(s.clone()))),
            None => None,
        },
        privacy: match &args.privacy {
            Some((p, s)) => Some((p.parse()?, Secret::new(s.clone()))),
            None => None,
        },
    };
    Ok(Security::Usm {
        user,
        context: args.context.clone(),
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let args = parse_args()?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("OTSENSOR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let config = ClientConfig {
        security: security(&args)?,
        timeout: Duration::from_secs_f64(args.timeout),
        retries: args.retries,
    };
    let mut client = Client::open(args.agent, config, Arc::new(Unpaced))
        .await
        .map_err(|e| e.to_string())?;
    if args.discover {
        let start = Instant::now();
        let options = DiscoveryOptions {
            vendor: args.vendor,
            ..DiscoveryOptions::default()
        };
        let data = discover(&mut client, options)
            .await
            .map_err(|e| e.to_string())?;
        let c = data.counts;
        for n in &data.notes {
            eprintln!("note: {n}");
        }
        println!(
            "{{\"discover\":true,\"secs\":{:.3},\"pdus\":{},\"interfaces\":{},\"entities\":{},\"arp\":{},\"arp_physical\":{},\"fdb\":{},\"qbridge_fdb\":{},\"lldp\":{},\"cdp\":{},\"notes\":{}}}",
            start.elapsed().as_secs_f64(),
            client.stats().sent,
            c.interfaces,
            c.entities,
            c.arp,
            c.arp_physical,
            c.fdb,
            c.qbridge_fdb,
            c.lldp,
            c.cdp,
            data.notes.len()
        );
        return Ok(());
    }
    let mut bulk = BulkSize::default();
    for oid in &args.oids {
        let before = client.stats().sent;
        let start = Instant::now();
        let (rows, notes) = walk_subtree(&mut client, &mut bulk, oid, WalkOptions::default())
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "{{\"oid\":\"{oid}\",\"secs\":{:.3},\"varbinds\":{},\"pdus\":{},\"notes\":{}}}",
            start.elapsed().as_secs_f64(),
            rows.len(),
            client.stats().sent - before,
            notes.len()
        );
    }
    Ok(())
}
