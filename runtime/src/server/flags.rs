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
    /// Port of the plain-HTTP, unauthenticated API (loopback only). 0 disables it.
    #[arg(long, default_value_t = 8080)]
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

    // Recognised but not available yet: refused at start-up with the reason.
    #[arg(long, hide = true)]
    secure_port: Option<String>,
    #[arg(long, hide = true)]
    tls_cert_file: Option<String>,
    #[arg(long, hide = true)]
    tls_private_key_file: Option<String>,
    #[arg(long, hide = true)]
    client_ca_file: Option<String>,
    #[arg(long, hide = true)]
    token_auth_file: Option<String>,
    #[arg(long, hide = true)]
    authorization_mode: Option<String>,
    #[arg(long, hide = true)]
    enable_admission_plugins: Option<String>,
    #[arg(long, hide = true)]
    disable_admission_plugins: Option<String>,
    #[arg(long, hide = true)]
    service_account_issuer: Option<String>,
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
        let pending: [(&str, &Option<String>, &str); 9] = [
            ("--secure-port", &self.secure_port, "HTTPS serving has not landed yet; use --insecure-port on loopback"),
            ("--tls-cert-file", &self.tls_cert_file, "HTTPS serving has not landed yet"),
            ("--tls-private-key-file", &self.tls_private_key_file, "HTTPS serving has not landed yet"),
            ("--client-ca-file", &self.client_ca_file, "authentication has not landed yet"),
            ("--token-auth-file", &self.token_auth_file, "authentication has not landed yet"),
            ("--authorization-mode", &self.authorization_mode, "authorization has not landed yet (every request is allowed)"),
            ("--enable-admission-plugins", &self.enable_admission_plugins, "admission plugins have not landed yet"),
            ("--disable-admission-plugins", &self.disable_admission_plugins, "admission plugins have not landed yet"),
            ("--service-account-issuer", &self.service_account_issuer, "service-account tokens have not landed yet"),
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
        if self.insecure_port == 0 {
            return Err(ServeError::Flag(
                "--insecure-port=0 leaves nothing to serve: HTTPS (--secure-port) has not landed yet".into(),
            ));
        }
        self.compaction_interval()?;
        self.watch_cache_config()?;
        self.backend()?;
        self.media_type()?;
        Ok(())
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
        assert_eq!(f.insecure_port, 8080);
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
        let f = Flags::from_args(["--watch-cache-sizes=pods#x"]).expect("parse");
        assert!(f.check().is_err());
        assert!(Flags::from_args(["--no-such-flag"]).is_err());
    }
}
