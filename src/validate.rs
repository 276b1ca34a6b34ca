//! `sitewarden validate`: checks the config and the AWS identity, and shows what the site maps to.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::aws::Aws;
use crate::error::Result;
use crate::names::SiteNames;
use crate::output::{Printer, escape};
use crate::site::Settings;

#[derive(Debug, Serialize)]
pub struct ValidateSummary {
    pub config: String,
    pub account: String,
    pub region: String,
    pub domain: Option<String>,
    pub source: String,
    pub source_exists: bool,
    pub resources: SiteNames,
    pub requests: BTreeMap<String, u64>,
}

impl fmt::Display for ValidateSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} is valid", escape(&self.config))?;
        writeln!(f, "  site            {}", self.resources.site)?;
        writeln!(f, "  account         {}", self.account)?;
        writeln!(f, "  region          {}", self.region)?;
        match &self.domain {
            Some(d) => writeln!(f, "  domain          {d}")?,
            None => writeln!(
                f,
                "  domain          (none: served on its *.cloudfront.net name)"
            )?,
        }
        let missing = if self.source_exists { "" } else { " (missing)" };
        writeln!(f, "  source          {}{missing}", escape(&self.source))?;
        writeln!(f, "  content bucket  {}", self.resources.content_bucket)?;
        writeln!(f, "  log bucket      {}", self.resources.log_bucket)?;
        writeln!(f, "  KMS key alias   {}", self.resources.kms_alias)
    }
}

pub async fn run(settings: &Settings, printer: &Printer) -> Result<()> {
    let config = settings.load_config()?;
    let aws = Aws::connect(settings, settings.site_region(&config)).await?;
    let account = aws.account_id().await?;
    let source = settings.config_dir().join(&config.site.source);
    if !source.is_dir() {
        printer.warn(format!(
            "source folder `{}` does not exist yet",
            escape(&source.display().to_string())
        ));
    }
    printer.data(&ValidateSummary {
        config: settings.config_path.display().to_string(),
        region: aws.region.clone(),
        domain: config.site.domain.as_ref().map(ToString::to_string),
        source: config.site.source.display().to_string(),
        source_exists: source.is_dir(),
        resources: SiteNames::new(&config, &account),
        account,
        requests: aws.requests.snapshot(),
    })?;
    Ok(())
}
