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

// `--help` sections, named and ordered as kube-apiserver's (clap lists a heading where its first
// field is declared, so the fields below go section by section in upstream's order, and by name
// within a section as upstream sorts them). Upstream's sections kapi has no flags for yet (Auditing,
// Features, API enablement, Egress selector, Metrics, Logs, Traces) are left out.
const GENERIC: &str = "Generic flags";
const ETCD: &str = "Etcd flags";
const SECURE_SERVING: &str = "Secure serving flags";
const INSECURE_SERVING: &str = "Insecure serving flags";
const AUTHENTICATION: &str = "Authentication flags";
const AUTHORIZATION: &str = "Authorization flags";
const ADMISSION: &str = "Admission flags";
const MISC: &str = "Misc flags";
const GLOBAL: &str = "Global flags";

/// The apiserver's command line.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "apiserver",
    about = "kapi: a Kubernetes API server generated from schemas",
    version,
    // One layout for every section (clap would otherwise choose per section by width).
    next_line_help = true,
    // Declared below, so that they come last under "Global flags" as upstream's do.
    disable_help_flag = true,
    disable_version_flag = true
)]
pub struct Flags {
    // ---- Generic ----
    /// Most concurrent mutating requests (0: no limit).
    #[arg(long, default_value_t = 200, help_heading = GENERIC)]
    pub max_mutating_requests_inflight: usize,
    /// Most concurrent non-mutating requests (0: no limit).
    #[arg(long, default_value_t = 400, help_heading = GENERIC)]
    pub max_requests_inflight: usize,

    // ---- Etcd (upstream's storage section) ----
    /// Directory of the embedded store and the generated kubeconfig.
    // kapi's own flag: it says where the data lives, so it sits with the storage flags.
    #[arg(long, default_value = DEFAULT_DATA_DIR, help_heading = ETCD)]
    pub data_dir: PathBuf,
    /// CA file verifying the etcd servers (https).
    #[arg(long, help_heading = ETCD)]
    pub etcd_cafile: Option<PathBuf>,
    /// Client certificate presented to etcd (with --etcd-keyfile).
    #[arg(long, help_heading = ETCD)]
    pub etcd_certfile: Option<PathBuf>,
    /// Interval of storage compaction (Go duration, e.g. 5m; 0 disables).
    #[arg(long, default_value = "5m", help_heading = ETCD)]
    pub etcd_compaction_interval: String,
    /// Client key for --etcd-certfile.
    #[arg(long, help_heading = ETCD)]
    pub etcd_keyfile: Option<PathBuf>,
    /// Prefix of every storage key.
    #[arg(long, default_value = "/registry", help_heading = ETCD)]
    pub etcd_prefix: String,
    /// etcd client URLs, comma separated (`https://` with --etcd-cafile): serve from etcd instead of
    /// the embedded store.
    #[arg(long, default_value = "", help_heading = ETCD)]
    pub etcd_servers: String,
    /// Storage backend: `etcd3` (needs --etcd-servers) or `embedded`; unset: etcd3 when
    /// --etcd-servers is given, else embedded.
    #[arg(long, default_value = "", help_heading = ETCD)]
    pub storage_backend: String,
    /// Media type objects are stored in: application/vnd.kubernetes.protobuf, application/json or
    /// application/yaml (custom resources are always JSON under protobuf).
    #[arg(long, default_value = "application/vnd.kubernetes.protobuf", help_heading = ETCD)]
    pub storage_media_type: String,
    /// Serve lists and watches from the watch cache.
    #[arg(long, default_value = "true", help_heading = ETCD)]
    #[arg(action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub watch_cache: bool,
    /// Per-resource watch cache sizes: `resource[.group]#size`, comma separated (0 disables).
    #[arg(long, default_value = "", help_heading = ETCD)]
    pub watch_cache_sizes: String,

    // ---- Secure serving ----
    /// Address of the HTTPS port (0.0.0.0: every interface).
    #[arg(long, default_value = "0.0.0.0", help_heading = SECURE_SERVING)]
    pub bind_address: IpAddr,
    /// Where generated certificates and keys live (default: <data-dir>/pki).
    #[arg(long, help_heading = SECURE_SERVING)]
    pub cert_dir: Option<PathBuf>,
    /// Port of the HTTPS API (authenticated and authorized). 0 disables it.
    #[arg(long, default_value_t = 6443, help_heading = SECURE_SERVING)]
    pub secure_port: u16,
    /// Serving certificate (PEM, may include intermediates). Without it kapi generates a CA and a
    /// serving certificate in --cert-dir.
    #[arg(long, help_heading = SECURE_SERVING)]
    pub tls_cert_file: Option<PathBuf>,
    /// Lowest TLS version served: VersionTLS12 or VersionTLS13.
    #[arg(long, default_value = "VersionTLS12", help_heading = SECURE_SERVING)]
    pub tls_min_version: String,
    /// Key of --tls-cert-file (PEM).
    #[arg(long, help_heading = SECURE_SERVING)]
    pub tls_private_key_file: Option<PathBuf>,

    // ---- Insecure serving ----
    // Upstream removed these flags in 1.24; its section of the same name stood here, after secure
    // serving, until then.
    /// Address of the plain-HTTP port: must be a loopback address.
    #[arg(long, default_value = "127.0.0.1", help_heading = INSECURE_SERVING)]
    pub insecure_bind_address: IpAddr,
    /// Port of the plain-HTTP API without authentication or authorization (loopback only; every
    /// request has full access). 0 (the default) disables it.
    #[arg(long, default_value_t = 0, help_heading = INSECURE_SERVING)]
    pub insecure_port: u16,

    // ---- Authentication ----
    /// Requests without credentials are `system:anonymous` in `system:unauthenticated` (else 401).
    #[arg(long, default_value = "true", help_heading = AUTHENTICATION)]
    #[arg(action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub anonymous_auth: bool,
    /// Audiences of the API (comma separated; default: the first --service-account-issuer).
    #[arg(long, default_value = "", help_heading = AUTHENTICATION)]
    pub api_audiences: String,
    /// CA bundle verifying client certificates (CN is the user, O the groups). Default: kapi's
    /// generated CA, which also signs the admin kubeconfig's certificate.
    #[arg(long, help_heading = AUTHENTICATION)]
    pub client_ca_file: Option<PathBuf>,
    /// Accept bootstrap tokens (Secrets of type bootstrap.kubernetes.io/token in kube-system).
    #[arg(long, default_value = "false", help_heading = AUTHENTICATION)]
    #[arg(action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub enable_bootstrap_token_auth: bool,
    /// Common names allowed to act as the front proxy (comma separated; empty: any signed by the CA).
    #[arg(long, default_value = "", help_heading = AUTHENTICATION)]
    pub requestheader_allowed_names: String,
    /// CA verifying the front proxy's client certificate before request headers are trusted.
    #[arg(long, help_heading = AUTHENTICATION)]
    pub requestheader_client_ca_file: Option<PathBuf>,
    /// Header prefixes of extra attributes (comma separated), e.g. X-Remote-Extra-.
    #[arg(long, default_value = "", help_heading = AUTHENTICATION)]
    pub requestheader_extra_headers_prefix: String,
    /// Headers carrying groups (comma separated), e.g. X-Remote-Group.
    #[arg(long, default_value = "", help_heading = AUTHENTICATION)]
    pub requestheader_group_headers: String,
    /// Headers carrying the user's uid (comma separated).
    #[arg(long, default_value = "", help_heading = AUTHENTICATION)]
    pub requestheader_uid_headers: String,
    /// Headers carrying the user name (comma separated, first present wins), e.g. X-Remote-User.
    #[arg(long, default_value = "", help_heading = AUTHENTICATION)]
    pub requestheader_username_headers: String,
    /// Issuer (`iss`) of service-account tokens; repeatable: the first issues, all are accepted.
    /// Default: https://kubernetes.default.svc.cluster.local.
    #[arg(long, action = ArgAction::Append, help_heading = AUTHENTICATION)]
    pub service_account_issuer: Vec<String>,
    /// PEM public (or private) keys verifying service-account tokens; repeatable.
    #[arg(long, action = ArgAction::Append, help_heading = AUTHENTICATION)]
    pub service_account_key_file: Vec<PathBuf>,
    /// Check that a service-account token's ServiceAccount (and bound object) still exist.
    #[arg(long, default_value = "true", help_heading = AUTHENTICATION)]
    #[arg(action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub service_account_lookup: bool,
    /// Longest lifetime of a requested service-account token (Go duration; empty: no limit).
    #[arg(long, default_value = "", help_heading = AUTHENTICATION)]
    pub service_account_max_token_expiration: String,
    /// Static bearer tokens: CSV lines `token,user,uid,"group1,group2"`.
    #[arg(long, help_heading = AUTHENTICATION)]
    pub token_auth_file: Option<PathBuf>,

    // ---- Authorization ----
    // Recognised but not available yet (as the admission flags below): hidden, and refused at
    // start-up with the reason.
    #[arg(long, hide = true, help_heading = AUTHORIZATION)]
    authorization_config: Option<String>,
    /// Ordered authorizers: AlwaysAllow, AlwaysDeny, ABAC, RBAC, Node, Webhook (comma separated).
    #[arg(long, default_value = "Node,RBAC", help_heading = AUTHORIZATION)]
    pub authorization_mode: String,
    /// ABAC policy file (one JSON policy object per line), for --authorization-mode=ABAC.
    #[arg(long, help_heading = AUTHORIZATION)]
    pub authorization_policy_file: Option<PathBuf>,
    /// How long the webhook's allow answers are cached (Go duration).
    #[arg(long, default_value = "5m", help_heading = AUTHORIZATION)]
    pub authorization_webhook_cache_authorized_ttl: String,
    /// How long the webhook's deny answers are cached (Go duration).
    #[arg(long, default_value = "30s", help_heading = AUTHORIZATION)]
    pub authorization_webhook_cache_unauthorized_ttl: String,
    /// Kubeconfig-format file naming the authorization webhook, for --authorization-mode=Webhook.
    #[arg(long, help_heading = AUTHORIZATION)]
    pub authorization_webhook_config_file: Option<PathBuf>,
    /// SubjectAccessReview version sent to the webhook (v1; v1beta1 is refused).
    #[arg(long, default_value = "v1", help_heading = AUTHORIZATION)]
    pub authorization_webhook_version: String,

    // ---- Admission (hidden until admission plugins land; the section then shows) ----
    #[arg(long, hide = true, help_heading = ADMISSION)]
    disable_admission_plugins: Option<String>,
    #[arg(long, hide = true, help_heading = ADMISSION)]
    enable_admission_plugins: Option<String>,

    // ---- Misc (upstream keeps the signing key here, apart from the other service-account flags) ----
    /// PEM private key signing service-account tokens (RSA or ECDSA P-256). Default: a key kapi
    /// generates in --cert-dir.
    #[arg(long, help_heading = MISC)]
    pub service_account_signing_key_file: Option<PathBuf>,

    // ---- Global ----
    /// Print help
    #[arg(short = 'h', long, action = ArgAction::Help, help_heading = GLOBAL)]
    help: (),
    /// Print version
    #[arg(short = 'V', long, action = ArgAction::Version, help_heading = GLOBAL)]
    version: (),
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

    #[test]
    fn help_groups_flags_like_kube_apiserver() {
        use clap::CommandFactory;
        let help = Flags::command().render_help().to_string();
        // Section headings are the unindented lines ending in ':' after "Usage:".
        let mut sections: Vec<(String, Vec<String>)> = Vec::new();
        for line in help.lines().skip_while(|l| !l.starts_with("Usage:")).skip(1) {
            if let Some(heading) = line.strip_suffix(':').filter(|_| !line.starts_with(' ')) {
                sections.push((heading.to_owned(), Vec::new()));
            } else if let (Some(flag), Some((_, flags))) = (
                line.trim_start().starts_with('-').then(|| line.split_whitespace().find(|w| w.starts_with("--"))).flatten(),
                sections.last_mut(),
            ) {
                flags.push(flag.to_owned());
            }
        }
        let headings: Vec<&str> = sections.iter().map(|(h, _)| h.as_str()).collect();
        // Upstream's order (kube-apiserver v1.36 --help; insecure serving where it stood until 1.24),
        // less the sections kapi has no visible flag in.
        assert_eq!(
            headings,
            [
                "Generic flags",
                "Etcd flags",
                "Secure serving flags",
                "Insecure serving flags",
                "Authentication flags",
                "Authorization flags",
                "Misc flags",
                "Global flags"
            ],
            "{help}"
        );
        let section =
            |flag: &str| sections.iter().find(|(_, flags)| flags.iter().any(|f| f == flag)).map(|(h, _)| h.as_str());
        for (flag, heading) in [
            ("--max-requests-inflight", "Generic flags"),
            ("--etcd-servers", "Etcd flags"),
            ("--storage-backend", "Etcd flags"),
            ("--watch-cache-sizes", "Etcd flags"),
            ("--data-dir", "Etcd flags"),
            ("--secure-port", "Secure serving flags"),
            ("--tls-cert-file", "Secure serving flags"),
            ("--insecure-port", "Insecure serving flags"),
            ("--client-ca-file", "Authentication flags"),
            ("--service-account-issuer", "Authentication flags"),
            ("--authorization-mode", "Authorization flags"),
            ("--service-account-signing-key-file", "Misc flags"),
            ("--help", "Global flags"),
            ("--version", "Global flags"),
        ] {
            assert_eq!(section(flag), Some(heading), "{flag}:\n{help}");
        }
        // Every visible flag is under a heading (none left in clap's default "Options").
        assert!(!help.contains("Options:"), "{help}");
        // Within a section, flags go by name as upstream sorts them.
        for (heading, flags) in &sections {
            let names: Vec<&str> = flags.iter().map(|f| f.trim_end_matches(',')).collect();
            assert!(names.is_sorted(), "{heading}: {names:?}");
        }
    }
}
