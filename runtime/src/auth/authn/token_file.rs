//! Static bearer tokens from `--token-auth-file` (upstream's tokenfile authenticator): a CSV file
//! of `token,user,uid[,"group1,group2"]` records, read once at start-up.

use std::collections::HashMap;
use std::path::Path;

use async_trait::async_trait;

use super::{Authenticated, AuthnError, TokenAuthenticator};
use crate::auth::UserInfo;

/// Why a token file could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenFileError {
    /// The file could not be read.
    #[error("open {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// Malformed CSV (Go's encoding/csv wording).
    #[error("parse error on line {line}, column {column}: {reason}")]
    Csv {
        /// 1-based line.
        line: usize,
        /// 1-based column (in bytes, as Go).
        column: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A record with fewer than 3 fields.
    #[error("token file '{path}' must have at least 3 columns (token, user name, user uid), found {found}")]
    TooFewColumns {
        /// The file.
        path: String,
        /// Fields in the record.
        found: usize,
    },
}

/// The users of a token file, by token.
#[derive(Debug, Clone, Default)]
pub struct TokenFile {
    tokens: HashMap<String, UserInfo>,
    /// Warnings met while loading (empty and duplicate tokens), as upstream logs them.
    pub warnings: Vec<String>,
}

impl TokenFile {
    /// Loads `path`.
    pub fn from_file(path: &Path) -> Result<TokenFile, TokenFileError> {
        let data = std::fs::read_to_string(path)
            .map_err(|e| TokenFileError::Read { path: path.display().to_string(), reason: e.to_string() })?;
        TokenFile::parse(&data, &path.display().to_string())
    }

    /// Parses CSV `data` (`path` names it in messages). Records need at least 3 fields; an empty
    /// token is skipped and a duplicate token replaces the earlier one, each with a warning.
    pub fn parse(data: &str, path: &str) -> Result<TokenFile, TokenFileError> {
        let mut file = TokenFile::default();
        for (number, record) in read_csv(data)?.into_iter().enumerate() {
            let number = number + 1;
            if record.len() < 3 {
                return Err(TokenFileError::TooFewColumns { path: path.to_string(), found: record.len() });
            }
            if record[0].is_empty() {
                file.warnings.push(format!("empty token has been found in token file '{path}', record number '{number}'"));
                continue;
            }
            let mut user = UserInfo { username: record[1].clone(), uid: record[2].clone(), ..UserInfo::default() };
            if let Some(groups) = record.get(3) {
                user.groups = groups.split(',').map(str::to_owned).collect();
            }
            if file.tokens.insert(record[0].clone(), user).is_some() {
                file.warnings
                    .push(format!("duplicate token has been found in token file '{path}', record number '{number}'"));
            }
        }
        Ok(file)
    }

    /// How many tokens are known.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether no token is known.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

#[async_trait]
impl TokenAuthenticator for TokenFile {
    async fn authenticate_token(&self, token: &str, _audiences: &[String]) -> Result<Option<Authenticated>, AuthnError> {
        Ok(self.tokens.get(token).map(|user| Authenticated { user: user.clone(), audiences: Vec::new() }))
    }
}

/// Go's `encoding/csv` reader with `FieldsPerRecord = -1`: RFC 4180 quoting (`""` escapes a
/// quote, quoted fields may span lines), empty lines skipped, `\r\n` read as `\n`, a bare `"` in
/// an unquoted field an error.
fn read_csv(data: &str) -> Result<Vec<Vec<String>>, TokenFileError> {
    let data = data.replace("\r\n", "\n");
    let bytes = data.as_bytes();
    let mut records = Vec::new();
    let mut pos = 0;
    let mut line = 1;
    while pos < bytes.len() {
        if bytes[pos] == b'\n' {
            // An empty line.
            pos += 1;
            line += 1;
            continue;
        }
        let mut record = Vec::new();
        loop {
            // One field, starting at `pos`.
            let mut field = Vec::new();
            if bytes.get(pos) == Some(&b'"') {
                let mut col = 1 + pos - line_start(bytes, pos);
                pos += 1;
                loop {
                    match bytes.get(pos) {
                        None => {
                            return Err(TokenFileError::Csv { line, column: col + 1, reason: "extraneous or missing \" in quoted-field" });
                        }
                        Some(b'"') if bytes.get(pos + 1) == Some(&b'"') => {
                            field.push(b'"');
                            pos += 2;
                        }
                        Some(b'"') => {
                            pos += 1;
                            match bytes.get(pos) {
                                None | Some(b',') | Some(b'\n') => break,
                                Some(_) => {
                                    col = 1 + pos - line_start(bytes, pos);
                                    return Err(TokenFileError::Csv { line, column: col, reason: "extraneous or missing \" in quoted-field" });
                                }
                            }
                        }
                        Some(b'\n') => {
                            field.push(b'\n');
                            pos += 1;
                            line += 1;
                        }
                        Some(&c) => {
                            field.push(c);
                            pos += 1;
                        }
                    }
                }
            } else {
                while let Some(&c) = bytes.get(pos) {
                    if c == b',' || c == b'\n' {
                        break;
                    }
                    if c == b'"' {
                        let column = 1 + pos - line_start(bytes, pos);
                        return Err(TokenFileError::Csv { line, column, reason: "bare \" in non-quoted-field" });
                    }
                    field.push(c);
                    pos += 1;
                }
            }
            record.push(String::from_utf8_lossy(&field).into_owned());
            match bytes.get(pos) {
                Some(b',') => pos += 1,
                Some(b'\n') => {
                    pos += 1;
                    line += 1;
                    break;
                }
                _ => break,
            }
        }
        records.push(record);
    }
    Ok(records)
}

fn line_start(bytes: &[u8], pos: usize) -> usize {
    bytes[..pos].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(t: &TokenFile, token: &str) -> Option<UserInfo> {
        t.tokens.get(token).cloned()
    }

    #[test]
    fn records_and_groups() {
        let t = TokenFile::parse(
            "token1,user1,uid1,\"group1,group2\"\ntoken2,user2,uid2\r\n\n token3,user3,uid3,g3,ignored\n",
            "tokens.csv",
        )
        .expect("parse");
        assert_eq!(t.len(), 3);
        let u = user(&t, "token1").expect("token1");
        assert_eq!((u.username.as_str(), u.uid.as_str()), ("user1", "uid1"));
        assert_eq!(u.groups, vec!["group1".to_string(), "group2".to_string()]);
        assert!(user(&t, "token2").expect("token2").groups.is_empty());
        // Leading spaces belong to the field, as Go's reader keeps them.
        assert_eq!(user(&t, " token3").expect("token3").groups, vec!["g3".to_string()]);
        assert!(t.warnings.is_empty());
    }

    #[test]
    fn duplicates_and_empty_tokens_warn() {
        let t = TokenFile::parse("a,first,1\n,nobody,2\na,second,3\n", "f.csv").expect("parse");
        assert_eq!(user(&t, "a").expect("a").username, "second");
        assert!(user(&t, "").is_none());
        assert_eq!(
            t.warnings,
            vec![
                "empty token has been found in token file 'f.csv', record number '2'".to_string(),
                "duplicate token has been found in token file 'f.csv', record number '3'".to_string(),
            ]
        );
    }

    #[test]
    fn malformed_files() {
        assert_eq!(
            TokenFile::parse("a,b\n", "f.csv").expect_err("2 columns"),
            TokenFileError::TooFewColumns { path: "f.csv".into(), found: 2 }
        );
        // Go's reader has no comment syntax in upstream's configuration: a `#` line is a record.
        assert!(matches!(TokenFile::parse("# tokens\n", "f.csv"), Err(TokenFileError::TooFewColumns { found: 1, .. })));
        let e = TokenFile::parse("a,b\"c,d\n", "f.csv").expect_err("bare quote");
        assert_eq!(e.to_string(), "parse error on line 1, column 4: bare \" in non-quoted-field");
        let e = TokenFile::parse("t,u,i\n\"a\"x,b,c\n", "f.csv").expect_err("junk after quote");
        assert!(e.to_string().contains("line 2") && e.to_string().contains("extraneous"), "{e}");
        assert!(TokenFile::parse("\"a,b,c\n", "f.csv").is_err());
        assert!(TokenFile::from_file(Path::new("/nonexistent/tokens.csv")).expect_err("missing").to_string().contains("/nonexistent/tokens.csv"));
    }

    #[test]
    fn quoted_fields() {
        let t = TokenFile::parse("\"to\"\"k\",\"multi\nline\",u\n", "f.csv").expect("parse");
        assert_eq!(user(&t, "to\"k").expect("quoted").username, "multi\nline");
    }

    #[tokio::test]
    async fn authenticates_known_tokens_only() {
        let t = TokenFile::parse("secret,alice,42,\"a,b\"\n", "f.csv").expect("parse");
        let got = t.authenticate_token("secret", &[]).await.expect("ok").expect("known");
        assert_eq!(got.user.username, "alice");
        assert_eq!(got.user.uid, "42");
        assert_eq!(t.authenticate_token("other", &[]).await, Ok(None));
    }
}
