//! kube-apiserver's flags, by their upstream names. A flag kapi accepts is honoured; flags of
//! features that have not landed yet are recognised and refused with a clear message.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser};

use super::ServeError;
use crate::cacher::WatchCacheConfig;
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
    etcd_servers: Option<String>,
    #[arg(long, hide = true)]
    storage_backend: Option<String>,
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
    #[arg(long, hide = true)]
    storage_media_type: Option<String>,
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
        let pending: [(&str, &Option<String>, &str); 12] = [
            ("--etcd-servers", &self.etcd_servers, "the etcd3 backend has not landed yet; kapi serves from its embedded store"),
            ("--storage-backend", &self.storage_backend, "only the embedded store is available yet"),
            ("--storage-media-type", &self.storage_media_type, "the embedded store keeps JSON; media types come with the etcd3 backend"),
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
        Ok(())
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
        let f = Flags::from_args(["--etcd-servers=http://127.0.0.1:2379"]).expect("parse");
        let e = f.check().expect_err("refused").to_string();
        assert!(e.contains("--etcd-servers") && e.contains("embedded"), "{e}");
        let f = Flags::from_args(["--insecure-bind-address=0.0.0.0"]).expect("parse");
        assert!(f.check().expect_err("refused").to_string().contains("loopback"));
        let f = Flags::from_args(["--watch-cache-sizes=pods#x"]).expect("parse");
        assert!(f.check().is_err());
        assert!(Flags::from_args(["--no-such-flag"]).is_err());
    }
}
