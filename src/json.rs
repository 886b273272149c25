//! JSON for a [`Policy`] (feature `serde`), without serde_json's nesting
//! limit.
//!
//! serde_json's reader stops at 128 levels of nesting, and each level of a
//! policy's containers takes three in JSON (`{"Block":{"body":[...]}}`), so
//! a policy nested about 45 levels deep, which cilgen parses and prints, would
//! not read back with `serde_json::from_str`. [`from_json`] reads such text:
//! it bounds the nesting itself (as deep as a parsed policy can be, with
//! room for expressions) and reads on a thread with a stack sized for it,
//! so no input overflows the stack.
//!
//! ```
//! let mut src = String::new();
//! for i in 0..60 {
//!     src.push_str(&format!("(block b{i}\n"));
//! }
//! src.push_str("(type t)\n");
//! src.push_str(&")\n".repeat(60));
//! let policy = cilgen::parse(&src)?;
//! let json = cilgen::json::to_json(&policy)?;
//! assert!(serde_json::from_str::<cilgen::Policy>(&json).is_err());
//! assert_eq!(cilgen::json::from_json(&json)?, policy);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::Policy;
use crate::parse::MAX_TREE_DEPTH;

/// The deepest JSON [`from_json`] reads: four levels for each level of a
/// parsed policy, and some.
pub const MAX_JSON_DEPTH: usize = 4 * MAX_TREE_DEPTH + 64;

/// Why JSON could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// Nested deeper than [`MAX_JSON_DEPTH`].
    #[error("JSON nested deeper than {MAX_JSON_DEPTH} levels")]
    TooDeep,
    /// Not JSON of a policy, or a value its checks refuse (a name, a
    /// comment with a line break...).
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// `policy` as JSON.
pub fn to_json(policy: &Policy) -> Result<String, serde_json::Error> {
    serde_json::to_string(policy)
}

/// Reads a policy from JSON, however deep (up to [`MAX_JSON_DEPTH`]).
pub fn from_json(text: &str) -> Result<Policy, JsonError> {
    if depth(text.as_bytes()) > MAX_JSON_DEPTH {
        return Err(JsonError::TooDeep);
    }
    let read = || -> Result<Policy, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(text);
        de.disable_recursion_limit();
        let policy = serde::Deserialize::deserialize(&mut de)?;
        de.end()?;
        Ok(policy)
    };
    // Each level costs a few frames of serde's recursion: a stack sized
    // for the deepest text allowed, whatever thread the caller is on.
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn_scoped(s, read)
            .map_err(|e| serde::de::Error::custom(format!("cannot start the reader: {e}")))
            .and_then(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    })
    .map_err(JsonError::from)
}

/// The deepest nesting of `[` and `{` outside strings.
fn depth(text: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in text {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_skips_strings() {
        assert_eq!(depth(br#"{"a":[1,{"b":"[[[\"{{"}]}"#), 3);
    }

    #[test]
    fn too_deep_json_is_refused_without_reading_it() {
        let text = "[".repeat(MAX_JSON_DEPTH + 1);
        assert!(matches!(from_json(&text), Err(JsonError::TooDeep)));
        // Deep but allowed: an error from serde, not a stack overflow.
        let text = "{\"statements\":".to_string() + &"[".repeat(MAX_JSON_DEPTH - 1);
        assert!(matches!(from_json(&text), Err(JsonError::Json(_))));
    }

    #[test]
    fn the_deepest_parsed_policy_reads_back() {
        let n = MAX_TREE_DEPTH - 1;
        let src = format!("{}(type t){}", "(block b ".repeat(n), ")".repeat(n));
        let policy = crate::parse(&src).unwrap();
        let json = to_json(&policy).unwrap();
        assert_eq!(from_json(&json).unwrap(), policy);
    }
}
