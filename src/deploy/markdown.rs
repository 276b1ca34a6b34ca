//! `deploy --format markdown`: the summary as a table for `$GITHUB_STEP_SUMMARY`.

use std::fmt::Write as _;

use super::{Summary, reason_text};
use crate::output::code;

/// Rows of the file table before it is cut short.
const MARKDOWN_ROWS: usize = 50;

impl crate::output::Markdown for Summary {
    fn markdown(&self) -> String {
        let (upload, delete) = if self.dry_run {
            ("to upload", "to delete")
        } else {
            ("uploaded", "deleted")
        };
        let mut out = format!(
            "### sitewarden deploy{}\n\n{} file(s) {upload} ({} bytes), {} {delete}, {} unchanged\n\n",
            self.deploy_id
                .as_ref()
                .map_or(String::new(), |id| format!(" {}", code(id))),
            self.uploaded,
            self.bytes,
            self.deleted,
            self.unchanged
        );
        let rows: Vec<(String, &str)> = self
            .uploads
            .iter()
            .map(|c| (code(&c.key), reason_text(c.reason)))
            .chain(self.deletes.iter().map(|k| (code(k), "deleted")))
            .collect();
        if !rows.is_empty() {
            out.push_str("| file | change |\n| --- | --- |\n");
            for (file, change) in rows.iter().take(MARKDOWN_ROWS) {
                let _ = writeln!(out, "| {file} | {change} |");
            }
            if rows.len() > MARKDOWN_ROWS {
                let _ = writeln!(out, "| … | and {} more |", rows.len() - MARKDOWN_ROWS);
            }
            out.push('\n');
        }
        if let Some(invalidation) = &self.invalidation {
            let paths: Vec<String> = invalidation.paths.iter().map(|p| code(p)).collect();
            let _ = writeln!(out, "CloudFront invalidation: {}\n", paths.join(", "));
        }
        out
    }
}
