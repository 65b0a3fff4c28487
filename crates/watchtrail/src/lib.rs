//! Watchtrail's binary crate: configuration, wiring of the services into the gateway, the HTTP
//! server, the background scheduler. No service logic lives here.
//!
//! - [`config`]: settings from flags, environment and a TOML file.
//! - [`credentials`]: root credentials and the fixed account id.
//! - [`server`]: HTTP listener, health and Prometheus endpoints, shutdown.
//! - [`cli`]: the `watchtrail` command.

pub mod cli;
pub mod config;
pub mod credentials;
pub mod metric_sink;
pub mod server;

pub use config::ServerConfig;
pub use server::Server;
