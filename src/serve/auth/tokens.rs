//! The API tokens (`X-Auth-Token`), each mapped to the one project it may act on.

/// The API tokens, kept so that a presented token is compared with each of them in constant time
/// (an HMAC under a key made at start-up, [`ring::hmac::verify`]), never looked up by value: how
/// long the check takes says nothing about how much of a token was right.
pub struct TokenBook {
    key: ring::hmac::Key,
    /// The HMAC of each token, and its project.
    tags: Vec<(ring::hmac::Tag, String)>,
}

impl std::fmt::Debug for TokenBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the tokens, nor their tags.
        write!(f, "TokenBook({} tokens)", self.tags.len())
    }
}

impl TokenBook {
    /// The book of `tokens` (token → project).
    pub fn new<'a>(
        tokens: impl IntoIterator<Item = (&'a crate::serve::config::Secret, &'a String)>,
    ) -> crate::error::Result<TokenBook> {
        let rng = ring::rand::SystemRandom::new();
        let key = ring::hmac::Key::generate(ring::hmac::HMAC_SHA256, &rng)
            .map_err(|_| crate::error::Error::internal("no randomness for the token key"))?;
        let tags = tokens
            .into_iter()
            .map(|(token, project)| {
                (
                    ring::hmac::sign(&key, token.expose().as_bytes()),
                    project.clone(),
                )
            })
            .collect();
        Ok(TokenBook { key, tags })
    }

    /// The project of `token`, if it is one of the book's. Every token is compared, each in
    /// constant time.
    pub fn project_of(&self, token: &str) -> Option<&str> {
        let mut found = None;
        for (tag, project) in &self.tags {
            if ring::hmac::verify(&self.key, token.as_bytes(), tag.as_ref()).is_ok() {
                found = Some(project.as_str());
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_finds_its_project_and_nothing_else_does() -> crate::error::Result<()> {
        use crate::serve::config::Secret;
        let tokens: std::collections::BTreeMap<Secret, String> = [
            (Secret::new("token-of-team-a"), "project-a".to_string()),
            (Secret::new("token-of-team-b"), "project-b".to_string()),
        ]
        .into();
        let book = TokenBook::new(&tokens)?;
        assert_eq!(book.project_of("token-of-team-a"), Some("project-a"));
        assert_eq!(book.project_of("token-of-team-b"), Some("project-b"));
        for wrong in [
            "",
            "token-of-team",
            "token-of-team-a ",
            "TOKEN-OF-TEAM-A",
            "project-a",
        ] {
            assert_eq!(book.project_of(wrong), None, "{wrong:?}");
        }
        // Printing the book shows no token.
        assert_eq!(format!("{book:?}"), "TokenBook(2 tokens)");
        Ok(())
    }
}
