//! The users of the identity endpoint (`crate::serve::sign_in`) and the tokens issued to them.
//!
//! Tokens are not stored: a token is its project, user and expiry, signed (HMAC-SHA256) with a
//! key kept in `DATA_DIR/identity.key`, so tokens outlive a restart, and a user taken out of the
//! configuration loses the tokens issued to them at once.

use std::path::Path;

use ring::hmac;

use crate::error::{Error, Result};
use crate::serve::auth::password;
use crate::serve::config::User;

/// Tokens start with this: a token that does not is not one of ours.
const PREFIX: &str = "cts1";
/// The file, in the data directory, holding the key tokens are signed with.
pub const KEY_FILE: &str = "identity.key";

/// A token the identity endpoint issued, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The project it acts on.
    pub project_id: String,
    /// The user's ID.
    pub user_id: String,
    /// When it expires (ms since 1970).
    pub expires_ms: i64,
}

/// The users, and the key tokens are signed with.
pub struct Identity {
    key: hmac::Key,
    users: Vec<User>,
    lifetime_ms: i64,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identity({} users)", self.users.len())
    }
}

/// The ID of a user: derived from the domain and name, the same on every start.
pub fn user_id(user: &User) -> String {
    let d = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{}\n{}", user.domain, user.name).as_bytes(),
    );
    d.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key in `dir/identity.key`, made (32 random bytes, readable by the owner only) when
/// there is none.
fn load_or_make_key(dir: &Path) -> Result<Vec<u8>> {
    let path = dir.join(KEY_FILE);
    match std::fs::read(&path) {
        Ok(bytes) if bytes.len() == 32 => return Ok(bytes),
        Ok(bytes) => {
            return Err(Error::invalid(format!(
                "{}: a key is 32 bytes, this file has {} (delete it to make a new one: \
                 tokens issued before stop working)",
                path.display(),
                bytes.len()
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("read", &path, e)),
    }
    use ring::rand::SecureRandom;
    let mut key = vec![0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| Error::internal("no randomness for the identity key"))?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create folder", dir, e))?;
    let temp = dir.join(format!("{KEY_FILE}.tmp"));
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(&temp)
            .map_err(|e| Error::io("create", &temp, e))?;
        file.write_all(&key)
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io("write", &temp, e))?;
    }
    std::fs::rename(&temp, &path).map_err(|e| Error::io("rename", &temp, e))?;
    Ok(key)
}

impl Identity {
    /// The identity of `users`, signing with the key in `data_dir` (made when missing; only
    /// when there are users).
    pub fn open(
        data_dir: &Path,
        users: &[User],
        lifetime: std::time::Duration,
    ) -> Result<Identity> {
        for user in users {
            password::check_format(user.password.expose()).map_err(|why| {
                Error::invalid(format!(
                    "user {:?}: the password is not a hash from `cts hash-password`: {why}",
                    user.name
                ))
            })?;
        }
        let key = if users.is_empty() {
            // No users: nothing is issued, and nothing needs to outlive a restart.
            let rng = ring::rand::SystemRandom::new();
            hmac::Key::generate(hmac::HMAC_SHA256, &rng)
                .map_err(|_| Error::internal("no randomness for the identity key"))?
        } else {
            hmac::Key::new(hmac::HMAC_SHA256, &load_or_make_key(data_dir)?)
        };
        Ok(Identity {
            key,
            users: users.to_vec(),
            lifetime_ms: i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX),
        })
    }

    fn signed_part(project_id: &str, user_id: &str, expires_ms: i64) -> String {
        format!("{PREFIX}.{expires_ms}.{project_id}.{user_id}")
    }

    /// A token for `user`, issued at `now_ms`, and when it expires.
    pub fn issue(&self, user: &User, now_ms: i64) -> (String, i64) {
        let expires_ms = now_ms.saturating_add(self.lifetime_ms);
        let signed = Self::signed_part(&user.project_id, &user_id(user), expires_ms);
        let tag = hmac::sign(&self.key, signed.as_bytes());
        (format!("{signed}.{}", hex(tag.as_ref())), expires_ms)
    }

    /// The token `token`, if this endpoint issued it, it has not expired at `now_ms`, and its
    /// user is still configured with its project.
    pub fn check(&self, token: &str, now_ms: i64) -> Option<IssuedToken> {
        let (signed, tag) = token.rsplit_once('.')?;
        if !tag.len().is_multiple_of(2) {
            return None;
        }
        let tag: Vec<u8> = (0..tag.len() / 2)
            .map(|i| {
                tag.get(2 * i..2 * i + 2)
                    .and_then(|b| u8::from_str_radix(b, 16).ok())
            })
            .collect::<Option<_>>()?;
        hmac::verify(&self.key, signed.as_bytes(), &tag).ok()?;
        let mut parts = signed.split('.');
        let (Some(PREFIX), Some(expires), Some(project_id), Some(user_id), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let expires_ms: i64 = expires.parse().ok()?;
        if expires_ms <= now_ms {
            return None;
        }
        self.users
            .iter()
            .any(|u| u.project_id == project_id && self::user_id(u) == user_id)
            .then(|| IssuedToken {
                project_id: project_id.to_string(),
                user_id: user_id.to_string(),
                expires_ms,
            })
    }

    /// The user with this ID, or named `name` in the domain `domain` (by name or ID; a domain's
    /// ID is its name), whose password is `password`. Takes as long whether or not the user
    /// exists (a PBKDF2 check: run it off the async workers).
    pub fn sign_in(
        &self,
        id: Option<&str>,
        name: Option<&str>,
        domain: Option<&str>,
        password: &str,
    ) -> Option<&User> {
        let user = self.users.iter().find(|u| match (id, name) {
            (Some(id), _) => user_id(u) == id,
            (None, Some(name)) => u.name == name && domain.is_none_or(|d| d == u.domain),
            (None, None) => false,
        });
        match user {
            Some(user) => password::verify(password, user.password.expose()).then_some(user),
            None => {
                password::verify_nobody(password);
                None
            }
        }
    }

    /// The user whose ID is `id`.
    pub fn user_by_id(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| user_id(u) == id)
    }

    /// Whether there are no users (nobody can sign in).
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// How long a token lasts (ms).
    pub fn lifetime_ms(&self) -> i64 {
        self.lifetime_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::config::Secret;

    fn user(name: &str, project: &str) -> User {
        User {
            name: name.into(),
            password: Secret::new(password::hash("pw").expect("hash")),
            domain: "Default".into(),
            project_id: project.into(),
        }
    }

    #[test]
    fn tokens_are_checked_signed_expiring_and_revocable() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("temp", Path::new("."), e))?;
        let alice = user("alice", "project-a");
        let bob = user("bob", "project-b");
        let day = std::time::Duration::from_secs(86_400);
        let id = Identity::open(dir.path(), &[alice.clone(), bob.clone()], day)?;
        let now = 1_700_000_000_000;
        let (token, expires) = id.issue(&alice, now);
        assert_eq!(expires, now + 86_400_000);
        let issued = IssuedToken {
            project_id: "project-a".into(),
            user_id: user_id(&alice),
            expires_ms: expires,
        };
        assert_eq!(id.check(&token, now + 1), Some(issued.clone()));
        assert_eq!(id.check(&token, expires - 1), Some(issued.clone()));
        assert_eq!(id.check(&token, expires), None, "expired");
        // Tampered: another project or a later expiry under the same tag.
        let other = token.replace("project-a", "project-b");
        assert_eq!(id.check(&other, now), None);
        let later = token.replacen(&expires.to_string(), &(expires + 1).to_string(), 1);
        assert_eq!(id.check(&later, now), None);
        assert_eq!(id.check("", now), None);
        assert_eq!(id.check("cts1.x.y", now), None);
        // The key is kept: a restarted server accepts the token; a new key does not.
        let again = Identity::open(dir.path(), &[alice.clone(), bob.clone()], day)?;
        assert_eq!(again.check(&token, now), Some(issued));
        let elsewhere = tempfile::tempdir().map_err(|e| Error::io("temp", Path::new("."), e))?;
        let other_key = Identity::open(elsewhere.path(), std::slice::from_ref(&alice), day)?;
        assert_eq!(other_key.check(&token, now), None);
        // A user taken out of the configuration: their tokens stop working.
        let without = Identity::open(dir.path(), &[bob], day)?;
        assert_eq!(without.check(&token, now), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .map_err(|e| Error::io("stat", dir.path(), e))?
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        Ok(())
    }

    #[test]
    fn sign_in_by_name_and_domain() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("temp", Path::new("."), e))?;
        let alice = user("alice", "project-a");
        let id = Identity::open(
            dir.path(),
            std::slice::from_ref(&alice),
            std::time::Duration::from_secs(60),
        )?;
        let by_name = |name, domain, pw| id.sign_in(None, Some(name), domain, pw);
        assert_eq!(by_name("alice", Some("Default"), "pw"), Some(&alice));
        assert_eq!(by_name("alice", None, "pw"), Some(&alice));
        assert_eq!(by_name("alice", Some("Other"), "pw"), None);
        assert_eq!(by_name("alice", Some("Default"), "PW"), None);
        assert_eq!(by_name("mallory", Some("Default"), "pw"), None);
        let alice_id = user_id(&alice);
        assert_eq!(id.sign_in(Some(&alice_id), None, None, "pw"), Some(&alice));
        assert_eq!(id.sign_in(Some(&alice_id), None, None, "PW"), None);
        assert_eq!(id.sign_in(Some("0123"), None, None, "pw"), None);
        let bad = User {
            password: Secret::new("pw"),
            ..alice
        };
        let err = Identity::open(dir.path(), &[bad], std::time::Duration::from_secs(60))
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err(
                "user \"alice\": the password is not a hash from `cts hash-password`: \
                 not pbkdf2-sha256$ITERATIONS$SALT$HASH"
                    .to_string()
            )
        );
        Ok(())
    }
}
