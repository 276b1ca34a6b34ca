//! The shared site session: the resolved settings of one run, and a site's loaded config with its
//! AWS clients and resource names. Below provision, deploy, audit and adopt, which all work on it.

use std::path::{Path, PathBuf};

use crate::aws::{Aws, ConnectOptions};
use crate::config::{Config, Region};
use crate::error::Result;
use crate::names::SiteNames;
use crate::output::OutputSettings;

#[derive(Debug, Clone)]
pub struct Settings {
    pub config_path: PathBuf,
    pub profile: Option<String>,
    /// `--region`, which wins over `site.region`.
    pub region: Option<Region>,
    pub endpoint_url: Option<String>,
    pub output: OutputSettings,
    pub yes: bool,
}

impl Settings {
    pub fn load_config(&self) -> Result<Config> {
        Ok(Config::load(&self.config_path)?)
    }

    /// The region of the content and log buckets: `--region`, then `site.region`; `None` leaves it
    /// to the AWS profile/environment.
    pub fn site_region(&self, config: &Config) -> Option<String> {
        self.region
            .as_ref()
            .or(config.site.region.as_ref())
            .map(|r| r.as_str().to_owned())
    }

    /// Where the config file lives; relative paths in it (such as `site.source`) start here.
    pub fn config_dir(&self) -> &Path {
        self.config_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }

    /// The default region of a run with no config (audit or adopt by flags): `--region`, then the
    /// profile's or environment's, then us-east-1 (CloudFront's; buckets elsewhere are read in
    /// their own region anyway).
    pub async fn flags_region(&self) -> String {
        if let Some(region) = &self.region {
            return region.as_str().to_owned();
        }
        let mut chain = aws_config::default_provider::region::DefaultRegionChain::builder();
        if let Some(profile) = &self.profile {
            chain = chain.profile_name(profile);
        }
        chain
            .build()
            .region()
            .await
            .map_or_else(|| crate::aws::US_EAST_1.to_owned(), |r| r.to_string())
    }
}

/// What the AWS clients are built from.
impl From<&Settings> for ConnectOptions {
    fn from(settings: &Settings) -> ConnectOptions {
        ConnectOptions {
            profile: settings.profile.clone(),
            endpoint_url: settings.endpoint_url.clone(),
        }
    }
}

/// A loaded config with its AWS clients and resource names.
pub struct Session {
    pub config: Config,
    pub aws: Aws,
    pub account: String,
    pub names: SiteNames,
    /// The source folder (`site.source` from the config's folder).
    pub source: std::path::PathBuf,
}

impl Session {
    pub async fn open(settings: &Settings) -> Result<Session> {
        let config = settings.load_config()?;
        let aws = Aws::connect(settings, settings.site_region(&config)).await?;
        let account = aws.account_id().await?;
        let names = SiteNames::new(&config, &account);
        let source = settings.config_dir().join(&config.site.source);
        Ok(Session {
            config,
            aws,
            account,
            names,
            source,
        })
    }
}
