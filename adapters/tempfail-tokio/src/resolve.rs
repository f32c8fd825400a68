//! Name resolution: a domain's MX answer and a host's addresses, from DNS
//! (`hickory-resolver`) or from a fixed table.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{NameServerConfigGroup, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::{ResolveError, TokioResolver};
use tempfail::TransportFailure;
use tempfail::route::{MAX_RECORDS, MxAnswer, MxRecord};

/// Addresses kept per host name at most (bounded memory against any answer).
pub const MAX_ADDRESSES: usize = 16;

/// What the sender asks of a resolver. Implement it to route through your own
/// cache or resolver; [`DnsResolver`] asks DNS, [`StaticResolver`] a table.
pub trait Resolve: Send + Sync {
    /// The MX answer for `domain` (a name without trailing dot). A temporary
    /// failure is [`MxAnswer::TempFail`], never an error.
    fn mx(&self, domain: &str) -> impl Future<Output = MxAnswer> + Send;

    /// The addresses of `host`, in the order to try: `Err` is
    /// [`TransportFailure::DnsNoAddress`] when the name has none (or does not
    /// exist) and [`TransportFailure::DnsTemporary`] when the resolver failed.
    fn addresses(
        &self,
        host: &str,
    ) -> impl Future<Output = Result<Vec<IpAddr>, TransportFailure>> + Send;
}

/// DNS through `hickory-resolver`: the system's resolver configuration, or one
/// name server of your choice (a local validating resolver, a test server).
///
/// Names are always queried fully qualified (no search list); `/etc/hosts` is
/// not consulted for a configured server.
#[derive(Clone)]
pub struct DnsResolver {
    inner: TokioResolver,
}

impl std::fmt::Debug for DnsResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsResolver").finish_non_exhaustive()
    }
}

impl DnsResolver {
    /// The system's configuration (`/etc/resolv.conf` on Unix).
    pub fn system() -> Result<Self, ResolveError> {
        let mut b = TokioResolver::builder_tokio()?;
        b.options_mut().ndots = 0;
        Ok(DnsResolver { inner: b.build() })
    }

    /// Ask only the name server at `server` (UDP, then TCP for truncated
    /// answers), waiting at most `timeout` per query (2 tries).
    pub fn at(server: SocketAddr, timeout: Duration) -> Self {
        let group = NameServerConfigGroup::from_ips_clear(&[server.ip()], server.port(), true);
        let config = ResolverConfig::from_parts(None, Vec::new(), group);
        let mut opts = ResolverOpts::default();
        opts.timeout = timeout;
        opts.attempts = 2;
        opts.ndots = 0;
        opts.use_hosts_file = ResolveHosts::Never;
        let inner = TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
            .with_options(opts)
            .build();
        DnsResolver { inner }
    }
}

fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

impl Resolve for DnsResolver {
    async fn mx(&self, domain: &str) -> MxAnswer {
        match self.inner.mx_lookup(fqdn(domain)).await {
            Ok(lookup) => {
                let records: Vec<MxRecord> = lookup
                    .iter()
                    .take(MAX_RECORDS.saturating_add(1))
                    .map(|mx| {
                        let exchange = mx.exchange();
                        let name = if exchange.is_root() {
                            ".".to_string()
                        } else {
                            exchange.to_ascii()
                        };
                        MxRecord::new(mx.preference(), name)
                    })
                    .collect();
                if records.is_empty() {
                    MxAnswer::NoRecords
                } else {
                    MxAnswer::Records(records)
                }
            }
            Err(e) if e.is_nx_domain() => MxAnswer::NxDomain,
            Err(e) if e.is_no_records_found() => MxAnswer::NoRecords,
            Err(_) => MxAnswer::TempFail,
        }
    }

    async fn addresses(&self, host: &str) -> Result<Vec<IpAddr>, TransportFailure> {
        match self.inner.lookup_ip(fqdn(host)).await {
            Ok(lookup) => {
                let mut v: Vec<IpAddr> = Vec::new();
                for ip in lookup.iter() {
                    if v.len() >= MAX_ADDRESSES {
                        break;
                    }
                    if !v.contains(&ip) {
                        v.push(ip);
                    }
                }
                if v.is_empty() {
                    Err(TransportFailure::DnsNoAddress)
                } else {
                    Ok(v)
                }
            }
            Err(e) if e.is_nx_domain() || e.is_no_records_found() => {
                Err(TransportFailure::DnsNoAddress)
            }
            Err(_) => Err(TransportFailure::DnsTemporary),
        }
    }
}

/// A fixed table of MX answers and addresses: for tests, and for senders that
/// resolve elsewhere. A domain not in the table is `NxDomain`; a host not in it
/// has no address.
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr};
/// use tempfail::route::{MxAnswer, MxRecord};
/// use tempfail_tokio::StaticResolver;
///
/// let dns = StaticResolver::new()
///     .mx("example.com", MxAnswer::Records(vec![MxRecord::new(10, "mx.example.com")]))
///     .host("mx.example.com", [IpAddr::V4(Ipv4Addr::LOCALHOST)]);
/// # let _ = dns;
/// ```
#[derive(Clone, Debug, Default)]
pub struct StaticResolver {
    mx: HashMap<String, MxAnswer>,
    hosts: HashMap<String, Vec<IpAddr>>,
}

fn key(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

impl StaticResolver {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// `domain`'s MX answer.
    #[must_use]
    pub fn mx(mut self, domain: &str, answer: MxAnswer) -> Self {
        self.mx.insert(key(domain), answer);
        self
    }

    /// `host`'s addresses (at most [`MAX_ADDRESSES`] are kept). A host with
    /// addresses and no MX entry of its own answers `NoRecords` to an MX query,
    /// so it is its own implicit MX.
    #[must_use]
    pub fn host(mut self, host: &str, addrs: impl IntoIterator<Item = IpAddr>) -> Self {
        let v: Vec<IpAddr> = addrs.into_iter().take(MAX_ADDRESSES).collect();
        self.hosts.insert(key(host), v);
        self
    }
}

impl Resolve for StaticResolver {
    async fn mx(&self, domain: &str) -> MxAnswer {
        let k = key(domain);
        match self.mx.get(&k) {
            Some(a) => a.clone(),
            None if self.hosts.contains_key(&k) => MxAnswer::NoRecords,
            None => MxAnswer::NxDomain,
        }
    }

    async fn addresses(&self, host: &str) -> Result<Vec<IpAddr>, TransportFailure> {
        match self.hosts.get(&key(host)) {
            Some(v) if !v.is_empty() => Ok(v.clone()),
            _ => Err(TransportFailure::DnsNoAddress),
        }
    }
}
