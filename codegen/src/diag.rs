//! Diagnostics: every problem found in the schemas, each with file:line:column and what to write instead.
//! All problems are collected, never just the first (a user who edits ten files wants ten messages).

use std::fmt;

use crate::source::Location;

/// One problem in a schema file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// Where.
    pub location: Location,
    /// What is wrong.
    pub message: String,
    /// What to write instead.
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: error: {}", self.location, self.message)?;
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

impl Diagnostic {
    /// `file:line:col: message (help: ...)` without the `error:` prefix, for compiler messages.
    pub fn compact(&self) -> String {
        match &self.help {
            Some(h) => format!("{}: {}\n  help: {h}", self.location, self.message),
            None => format!("{}: {}", self.location, self.message),
        }
    }
}

/// All problems found; `Display` prints one per line, sorted by file and position.
#[derive(Debug, Clone, Default, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut all = self.0.clone();
        all.sort();
        all.dedup();
        for (i, d) in all.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        if all.len() > 1 {
            write!(f, "\n{} errors in schemas", all.len())?;
        }
        Ok(())
    }
}

impl Diagnostics {
    /// Records a problem.
    pub fn push(&mut self, location: Location, message: impl Into<String>, help: Option<String>) {
        self.0.push(Diagnostic { location, message: message.into(), help });
    }

    /// True if nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The closest candidate to `word` by edit distance, if it is plausibly a typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(&word.to_lowercase(), &c.to_lowercase());
        let limit = (word.len().max(c.len()) / 3).max(1);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("propertes", ["properties", "items"]), Some("properties"));
        assert_eq!(did_you_mean("maxLenght", ["maxLength", "minLength"]), Some("maxLength"));
        assert_eq!(did_you_mean("zzz", ["properties"]), None);
    }
}
