//! kube-apiserver's flags, by their upstream names. A flag kapi accepts is honoured; flags of
//! features that have not landed yet are recognised and refused with a clear message.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser};

use super::ServeError;
use crate::cacher::WatchCacheConfig;
use crate::storage::codec::MediaType;
use crate::storage::embedded::DEFAULT_DATA_DIR;

/// The apiserver's command line.
#[derive(Debug, Clone, Parser)]
#[command(name = "apiserver", about = "kapi: a Kubernetes API server generated from schemas", version)]
pub struct Flags {
    /// Port of the plain-HTTP API without authentication or authorization (loopback only; every
    /// request has full access). 0 (the default) disables it.
    #[arg(long, default_value_t = 0)]
    pub insecure_port: u16,
    /// Address of the plain-HTTP port: must be a loopback address.
    #[arg(long, default_value = "127.0.0.1")]
    pub insecure_bind_address: IpAddr,
    /// Directory of the embedded store and the generated kubeconfig.
    #[arg(long, default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// etcd client URLs, comma separated (`https://` with --etcd-cafile): serve from etcd instead of
    /// the embedded store.
    #[arg(long, default_value = "")]
    pub etcd_servers: String,
    /// Storage backend: `etcd3` (needs --etcd-servers) or `embedded`; unset: etcd3 when
    /// --etcd-servers is given, else embedded.
    #[arg(long, default_value = "")]
    pub storage_backend: String,
    /// CA file verifying the etcd servers (https).
    #[arg(long)]
    pub etcd_cafile: Option<PathBuf>,
    /// Client certificate presented to etcd (with --etcd-keyfile).
    #[arg(long)]
    pub etcd_certfile: Option<PathBuf>,
    /// Client key for --etcd-certfile.
    #[arg(long)]
    pub etcd_keyfile: Option<PathBuf>,
    /// Media type objects are stored in: application/vnd.kubernetes.protobuf, application/json or
    /// application/yaml (custom resources are always JSON under protobuf).
    #[arg(long, default_value = "application/vnd.kubernetes.protobuf")]
    pub storage_media_type: String,
    /// Prefix of every storage key.
    #[arg(long, default_value = "/registry")]
    pub etcd_prefix: String,
    /// Interval of storage compaction (Go duration, e.g. 5m; 0 disables).
    #[arg(long, default_value = "5m")]
    pub etcd_compaction_interval: String,
    /// Serve lists and watches from the watch cache.
    #[arg(long, default_value = "true", action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub watch_cache: bool,
    /// Per-resource watch cache sizes: `resource[.group]#size`, comma separated (0 disables).
    #[arg(long, default_value = "")]
    pub watch_cache_sizes: String,
    /// Most concurrent non-mutating requests (0: no limit).
    #[arg(long, default_value_t = 400)]
    pub max_requests_inflight: usize,
    /// Most concurrent mutating requests (0: no limit).
    #[arg(long, default_value_t = 200)]
    pub max_mutating_requests_inflight: usize,

    // ---- Serving (HTTPS) ----
    /// Port of the HTTPS API (authenticated and authorized). 0 disables it.
    #[arg(long, default_value_t = 6443)]
    pub secure_port: u16,
    /// Address of the HTTPS port (0.0.0.0: every interface).
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_address: IpAddr,
    /// Serving certificate (PEM, may include intermediates). Without it kapi generates a CA and a
    /// serving certificate in --cert-dir.
    #[arg(long)]
    pub tls_cert_file: Option<PathBuf>,
    /// Key of --tls-cert-file (PEM).
    #[arg(long)]
    pub tls_private_key_file: Option<PathBuf>,
    /// Where generated certificates and keys live (default: <data-dir>/pki).
    #[arg(long)]
    pub cert_dir: Option<PathBuf>,
    /// Lowest TLS version served: VersionTLS12 or VersionTLS13.
    #[arg(long, default_value = "VersionTLS12")]
    pub tls_min_version: String,

    // ---- Authentication ----
    /// CA bundle verifying client certificates (CN is the user, O the groups). Default: kapi's
    /// generated CA, which also signs the admin kubeconfig's certificate.
    #[arg(long)]
    pub client_ca_file: Option<PathBuf>,
    /// Static bearer tokens: CSV lines `token,user,uid,"group1,group2"`.
    #[arg(long)]
    pub token_auth_file: Option<PathBuf>,
    /// Accept bootstrap tokens (Secrets of type bootstrap.kubernetes.io/token in kube-system).
    #[arg(long, default_value = "false", action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub enable_bootstrap_token_auth: bool,
    /// Requests without credentials are `system:anonymous` in `system:unauthenticated` (else 401).
    #[arg(long, default_value = "true", action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub anonymous_auth: bool,
    /// Issuer (`iss`) of service-account tokens; repeatable: the first issues, all are accepted.
    /// Default: https://kubernetes.default.svc.cluster.local.
    #[arg(long, action = ArgAction::Append)]
    pub service_account_issuer: Vec<String>,
    /// PEM public (or private) keys verifying service-account tokens; repeatable.
    #[arg(long, action = ArgAction::Append)]
    pub service_account_key_file: Vec<PathBuf>,
    /// PEM private key signing service-account tokens (RSA or ECDSA P-256). Default: a key kapi
    /// generates in --cert-dir.
    #[arg(long)]
    pub service_account_signing_key_file: Option<PathBuf>,
    /// Check that a service-account token's ServiceAccount (and bound object) still exist.
    #[arg(long, default_value = "true", action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub service_account_lookup: bool,
    /// Longest lifetime of a requested service-account token (Go duration; empty: no limit).
    #[arg(long, default_value = "")]
    pub service_account_max_token_expiration: String,
    /// Audiences of the API (comma separated; default: the first --service-account-issuer).
    #[arg(long, default_value = "")]
    pub api_audiences: String,
    /// CA verifying the front proxy's client certificate before request headers are trusted.
    #[arg(long)]
    pub requestheader_client_ca_file: Option<PathBuf>,
    /// Common names allowed to act as the front proxy (comma separated; empty: any signed by the CA).
    #[arg(long, default_value = "")]
    pub requestheader_allowed_names: String,
    /// Headers carrying the user name (comma separated, first present wins), e.g. X-Remote-User.
    #[arg(long, default_value = "")]
    pub requestheader_username_headers: String,
    /// Headers carrying the user's uid (comma separated).
    #[arg(long, default_value = "")]
    pub requestheader_uid_headers: String,
    /// Headers carrying groups (comma separated), e.g. X-Remote-Group.
    #[arg(long, default_value = "")]
    pub requestheader_group_headers: String,
    /// Header prefixes of extra attributes (comma separated), e.g. X-Remote-Extra-.
    #[arg(long, default_value = "")]
    pub requestheader_extra_headers_prefix: String,

    // ---- Authorization ----
    /// Ordered authorizers: AlwaysAllow, AlwaysDeny, ABAC, RBAC, Node, Webhook (comma separated).
    #[arg(long, default_value = "Node,RBAC")]
    pub authorization_mode: String,
    /// ABAC policy file (one JSON policy object per line), for --authorization-mode=ABAC.
    #[arg(long)]
    pub authorization_policy_file: Option<PathBuf>,
    /// Kubeconfig-format file naming the authorization webhook, for --authorization-mode=Webhook.
    #[arg(long)]
    pub authorization_webhook_config_file: Option<PathBuf>,
    /// SubjectAccessReview version sent to the webhook (v1; v1beta1 is refused).
    #[arg(long, default_value = "v1")]
    pub authorization_webhook_version: String,
    /// How long the webhook's allow answers are cached (Go duration).
    #[arg(long, default_value = "5m")]
    pub authorization_webhook_cache_authorized_ttl: String,
    /// How long the webhook's deny answers are cached (Go duration).
    #[arg(long, default_value = "30s")]
    pub authorization_webhook_cache_unauthorized_ttl: String,

    // Recognised but not available yet: refused at start-up with the reason.
    #[arg(long, hide = true)]
    authorization_config: Option<String>,
    #[arg(long, hide = true)]
    enable_admission_plugins: Option<String>,
    #[arg(long, hide = true)]
    disable_admission_plugins: Option<String>,
}

/// The lowest TLS version served (`--tls-min-version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsVersion {
    /// TLS 1.2 and 1.3.
    Tls12,
    /// TLS 1.3 only.
    Tls13,
}

/// Which storage backend the flags choose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// The embedded store in `--data-dir`.
    Embedded,
    /// etcd3 at these client URLs.
    Etcd3(Vec<String>),
}

impl Flags {
    /// Parses the process arguments (exits with clap's message on errors, as a CLI does).
    pub fn parse_args() -> Flags {
        Flags::parse()
    }

    /// Parses `args` (without the program name).
    pub fn from_args<I, S>(args: I) -> Result<Flags, ServeError>
    where
        I: IntoIterator<Item = S>,
        S: Into<std::ffi::OsString> + Clone,
    {
        let all = std::iter::once(std::ffi::OsString::from("apiserver")).chain(args.into_iter().map(Into::into));
        Flags::try_parse_from(all).map_err(|e| ServeError::Flag(e.to_string()))
    }

    /// Refuses flags kapi cannot honour yet and values it cannot use.
    pub fn check(&self) -> Result<(), ServeError> {
        let pending: [(&str, &Option<String>, &str); 3] = [
            ("--authorization-config", &self.authorization_config, "structured authorization configuration is not supported: use --authorization-mode with its --authorization-* flags"),
            ("--enable-admission-plugins", &self.enable_admission_plugins, "admission plugins have not landed yet"),
            ("--disable-admission-plugins", &self.disable_admission_plugins, "admission plugins have not landed yet"),
        ];
        for (name, value, why) in pending {
            if let Some(v) = value {
                return Err(ServeError::Flag(format!("{name}={v} cannot be honoured: {why}")));
            }
        }
        if !self.insecure_bind_address.is_loopback() {
            return Err(ServeError::Flag(format!(
                "--insecure-bind-address={} refused: the insecure port serves without authentication and binds only to a loopback address (127.0.0.1 or ::1)",
                self.insecure_bind_address
            )));
        }
        if self.insecure_port == 0 && self.secure_port == 0 {
            return Err(ServeError::Flag(
                "--secure-port=0 and --insecure-port=0 leave nothing to serve: give --secure-port (HTTPS, default 6443)".into(),
            ));
        }
        if self.tls_cert_file.is_some() != self.tls_private_key_file.is_some() {
            return Err(ServeError::Flag(
                "--tls-cert-file and --tls-private-key-file must be given together (or neither: kapi then generates a serving certificate in --cert-dir)".into(),
            ));
        }
        self.tls_min_version()?;
        self.compaction_interval()?;
        self.watch_cache_config()?;
        self.backend()?;
        self.media_type()?;
        Ok(())
    }

    /// `--tls-min-version`: VersionTLS12 or VersionTLS13 (older versions are refused).
    pub fn tls_min_version(&self) -> Result<TlsVersion, ServeError> {
        match self.tls_min_version.as_str() {
            "VersionTLS12" => Ok(TlsVersion::Tls12),
            "VersionTLS13" => Ok(TlsVersion::Tls13),
            old @ ("VersionTLS10" | "VersionTLS11") => Err(ServeError::Flag(format!(
                "--tls-min-version={old} is not supported: kapi serves TLS 1.2 and 1.3 only (use VersionTLS12 or VersionTLS13)"
            ))),
            other => Err(ServeError::Flag(format!(
                "invalid argument {other:?} for \"--tls-min-version\" flag: unknown tls version {other:?} (use VersionTLS12 or VersionTLS13)"
            ))),
        }
    }

    /// `--storage-backend` and `--etcd-servers`.
    pub fn backend(&self) -> Result<Backend, ServeError> {
        let servers: Vec<String> =
            self.etcd_servers.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        for s in &servers {
            if !(s.starts_with("http://") || s.starts_with("https://")) {
                return Err(ServeError::Flag(format!(
                    "--etcd-servers: {s:?} is not a URL: give etcd client URLs such as http://127.0.0.1:2379"
                )));
            }
            if s.starts_with("https://") && self.etcd_cafile.is_none() {
                return Err(ServeError::Flag(format!(
                    "--etcd-servers: {s} is https: --etcd-cafile must name the CA that signed etcd's certificate"
                )));
            }
        }
        if self.etcd_certfile.is_some() != self.etcd_keyfile.is_some() {
            return Err(ServeError::Flag("--etcd-certfile and --etcd-keyfile must be given together".into()));
        }
        match self.storage_backend.as_str() {
            "" if servers.is_empty() => Ok(Backend::Embedded),
            "" | "etcd3" if !servers.is_empty() => Ok(Backend::Etcd3(servers)),
            "etcd3" => Err(ServeError::Flag("--storage-backend=etcd3 needs --etcd-servers".into())),
            "embedded" if servers.is_empty() => Ok(Backend::Embedded),
            "embedded" => Err(ServeError::Flag(
                "--storage-backend=embedded and --etcd-servers contradict each other: drop one".into(),
            )),
            "etcd2" => Err(ServeError::Flag(
                "--storage-backend=etcd2 is not supported (Kubernetes removed etcd2 in 1.13): use etcd3".into(),
            )),
            other => Err(ServeError::Flag(format!(
                "--storage-backend={other} is not supported: use etcd3 (with --etcd-servers) or embedded"
            ))),
        }
    }

    /// `--storage-media-type`.
    pub fn media_type(&self) -> Result<MediaType, ServeError> {
        MediaType::parse(&self.storage_media_type).map_err(|e| ServeError::Flag(format!("--storage-media-type: {e}")))
    }

    /// `--etcd-compaction-interval` as a duration.
    pub fn compaction_interval(&self) -> Result<Duration, ServeError> {
        let d = crate::apimachinery::Duration::parse(&self.etcd_compaction_interval).map_err(|e| {
            ServeError::Flag(format!("invalid argument {:?} for \"--etcd-compaction-interval\" flag: {e}", self.etcd_compaction_interval))
        })?;
        Ok(Duration::from_nanos(u64::try_from(d.as_nanos()).unwrap_or(0)))
    }

    /// `--watch-cache` and `--watch-cache-sizes`.
    pub fn watch_cache_config(&self) -> Result<WatchCacheConfig, ServeError> {
        WatchCacheConfig::from_flags(self.watch_cache, &self.watch_cache_sizes)
            .map_err(|e| ServeError::Flag(format!("invalid --watch-cache-sizes: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_refusals() {
        let f = Flags::from_args(Vec::<String>::new()).expect("defaults parse");
        assert_eq!(f.insecure_port, 0);
        assert_eq!(f.secure_port, 6443);
        assert_eq!(f.tls_min_version().expect("tls"), TlsVersion::Tls12);
        assert!(f.watch_cache);
        assert!(f.check().is_ok());
        let f = Flags::from_args(["--watch-cache=false", "--watch-cache-sizes", "pods#10"]).expect("parse");
        assert!(!f.watch_cache);
        assert_eq!(f.backend().expect("backend"), Backend::Embedded);
        assert_eq!(f.media_type().expect("media"), MediaType::Protobuf);
        let f = Flags::from_args(["--etcd-servers=http://127.0.0.1:2379, http://127.0.0.1:22379"]).expect("parse");
        assert_eq!(
            f.backend().expect("etcd"),
            Backend::Etcd3(vec!["http://127.0.0.1:2379".into(), "http://127.0.0.1:22379".into()])
        );
        for (args, needle) in [
            (vec!["--storage-backend=etcd2", "--etcd-servers=http://a:1"], "etcd2"),
            (vec!["--storage-backend=etcd3"], "needs --etcd-servers"),
            (vec!["--etcd-servers=https://127.0.0.1:2379"], "--etcd-cafile"),
            (vec!["--etcd-servers=127.0.0.1:2379"], "not a URL"),
            (vec!["--etcd-servers=http://a:1", "--etcd-certfile=c"], "together"),
            (vec!["--storage-media-type=text/plain"], "unsupported storage media type"),
        ] {
            let f = Flags::from_args(args.clone()).expect("parse");
            let e = f.check().expect_err("refused").to_string();
            assert!(e.contains(needle), "{args:?}: {e}");
        }
        let f = Flags::from_args(["--storage-media-type=application/json"]).expect("parse");
        assert_eq!(f.media_type().expect("media"), MediaType::Json);
        let f = Flags::from_args(["--insecure-bind-address=0.0.0.0"]).expect("parse");
        assert!(f.check().expect_err("refused").to_string().contains("loopback"));
        let f = Flags::from_args(["--insecure-port=8080", "--secure-port=0"]).expect("parse");
        assert!(f.check().is_ok());
        let f = Flags::from_args(["--tls-min-version=VersionTLS13"]).expect("parse");
        assert_eq!(f.tls_min_version().expect("tls"), TlsVersion::Tls13);
        for (args, needle) in [
            (vec!["--secure-port=0", "--insecure-port=0"], "nothing to serve"),
            (vec!["--secure-port=0"], "nothing to serve"),
            (vec!["--tls-cert-file=a.crt"], "together"),
            (vec!["--tls-private-key-file=a.key"], "together"),
            (vec!["--tls-min-version=VersionTLS10"], "TLS 1.2 and 1.3 only"),
            (vec!["--tls-min-version=VersionTLS11"], "TLS 1.2 and 1.3 only"),
            (vec!["--tls-min-version=tls1.2"], "unknown tls version"),
            (vec!["--insecure-port=8080", "--insecure-bind-address=10.0.0.1"], "loopback"),
        ] {
            let f = Flags::from_args(args.clone()).expect("parse");
            let e = f.check().expect_err("refused").to_string();
            assert!(e.contains(needle), "{args:?}: {e}");
        }
        assert!(Flags::from_args(["--tls-cert-file="]).is_err(), "clap refuses empty paths");
        let f = Flags::from_args(["--watch-cache-sizes=pods#x"]).expect("parse");
        assert!(f.check().is_err());
        assert!(Flags::from_args(["--no-such-flag"]).is_err());
    }
}
