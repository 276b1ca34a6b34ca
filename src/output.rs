//! The Printer: data on stdout (text or `--json`), everything else on stderr.
//!
//! Logs and warnings go to stderr; progress bars appear only when stderr is a terminal and neither
//! `-q` nor `--json` is given. Names that come from files or S3 keys go through [`escape`] before they
//! are printed, so a hostile file name cannot move the cursor or rewrite the terminal.

use std::borrow::Cow;
use std::fmt::{Display, Write as _};
use std::io::{self, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

/// How output is shown, as `settings` resolved it from the flags and the environment.
#[derive(Debug, Clone, Copy)]
pub struct OutputSettings {
    pub json: bool,
    pub quiet: bool,
    pub verbose: bool,
    /// Colour on stderr.
    pub color: bool,
    /// Whether stderr is a terminal (progress bars only then).
    pub stderr_terminal: bool,
}

/// `--format` of `plan` and `deploy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// Tables for `$GITHUB_STEP_SUMMARY` and pull request comments.
    Markdown,
}

/// A command result rendered as GitHub-flavoured Markdown.
pub trait Markdown {
    fn markdown(&self) -> String;
}

/// Text for one Markdown table cell: no line breaks or control characters, and the characters of
/// tables, links, images, inline HTML and emphasis escaped.
pub fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in escape(text).chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            // Links, images, inline HTML, emphasis and tables: shown as the characters they are.
            '|' | '[' | ']' | '<' | '>' | '*' | '_' | '`' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// `text` as a Markdown code span (backticks inside are replaced, so the span cannot end early;
/// `|` is escaped, which GitHub's tables honour inside code too).
pub fn code(text: &str) -> String {
    let flat: String = escape(text)
        .chars()
        .map(|c| match c {
            '\n' | '\r' => ' ',
            '`' => '\'',
            c => c,
        })
        .collect();
    format!("`{}`", flat.replace('|', "\\|"))
}

#[derive(Debug, Clone, Copy)]
pub struct Printer {
    settings: OutputSettings,
}

impl Printer {
    pub fn new(settings: OutputSettings) -> Printer {
        Printer { settings }
    }

    pub fn json(&self) -> bool {
        self.settings.json
    }

    /// Writes a command's result on stdout: JSON with `--json`, its `Display` text otherwise.
    pub fn data<T: Serialize + Display>(&self, value: &T) -> io::Result<()> {
        let mut out = io::stdout().lock();
        if self.settings.json {
            serde_json::to_writer_pretty(&mut out, value)?;
            writeln!(out)?;
        } else {
            write!(out, "{value}")?;
        }
        out.flush()
    }

    /// Writes a command's result on stdout as Markdown (`--format markdown`) and, when
    /// `GITHUB_STEP_SUMMARY` names a file (a GitHub Actions step), appends it there too.
    pub fn markdown<T: Markdown>(&self, value: &T) -> io::Result<()> {
        let text = value.markdown();
        let mut out = io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()?;
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            let mut summary = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?;
            summary.write_all(text.as_bytes())?;
            summary.write_all(b"\n")?;
        }
        Ok(())
    }

    /// An informational line on stderr (hidden with `-q` and `--json`).
    pub fn info(&self, message: impl Display) {
        if !self.settings.quiet && !self.settings.json {
            eprintln!("{message}");
        }
    }

    /// Detail shown only with `-v`.
    pub fn debug(&self, message: impl Display) {
        if self.settings.verbose {
            eprintln!("{} {message}", self.paint("2", "debug:"));
        }
    }

    /// A warning on stderr; shown even with `--json` (stdout stays clean), hidden with `-q`.
    pub fn warn(&self, message: impl Display) {
        if !self.settings.quiet {
            eprintln!("{} {message}", self.paint("1;33", "warning:"));
        }
    }

    /// Prints a rendered error (see `Error::render`) with its labels coloured.
    pub fn error(&self, rendered: &str) {
        let mut text = String::new();
        for line in rendered.lines() {
            let line = if let Some(rest) = line.strip_prefix("error:") {
                format!("{}{rest}", self.paint("1;31", "error:"))
            } else if let Some(rest) = line.strip_prefix("hint:") {
                format!("{}{rest}", self.paint("1;36", "hint:"))
            } else {
                line.to_owned()
            };
            let _ = writeln!(text, "{line}");
        }
        eprint!("{text}");
    }

    /// A progress bar on a terminal; a hidden one otherwise (callers log plain lines instead).
    pub fn progress(&self, len: u64, message: &'static str) -> ProgressBar {
        if !self.shows_progress() {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} {per_sec}")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.set_message(message);
        bar
    }

    pub fn shows_progress(&self) -> bool {
        self.settings.stderr_terminal && !self.settings.quiet && !self.settings.json
    }

    fn paint<'a>(self, code: &str, text: &'a str) -> Cow<'a, str> {
        if self.settings.color {
            Cow::Owned(format!("\x1b[{code}m{text}\x1b[0m"))
        } else {
            Cow::Borrowed(text)
        }
    }
}

/// Escapes control characters (and the backslash that introduces escapes) for printing.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() || c == '\\') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cells_show_hostile_text_as_text() {
        assert_eq!(
            cell("see [x](https://evil) <img src=x> a|b *b*\nnext"),
            "see \\[x\\](https://evil) \\<img src=x\\> a\\|b \\*b\\*\\nnext"
        );
        assert_eq!(code("a`b|c\nd"), "`a'b\\|c\\nd`");
    }

    #[test]
    fn escape_leaves_plain_names_alone() {
        assert!(matches!(escape("docs/café index.html"), Cow::Borrowed(_)));
    }

    #[test]
    fn escape_neutralises_control_characters() {
        assert_eq!(
            escape("a\x1b[2Jb\nc\\d\u{7f}"),
            "a\\u{1b}[2Jb\\nc\\\\d\\u{7f}"
        );
    }
}
