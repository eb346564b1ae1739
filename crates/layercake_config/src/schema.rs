//! The file as written: what serde reads, with locations kept for validation.
//!
//! Values that need checking against the rule table or a fixed set of words are
//! read as located strings, so the error can name their line.

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_saphyr::Spanned;
use std::fmt;

/// The top level of `.layercake.yml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawConfig {
    pub fail_on: Option<Spanned<String>>,
    pub target: Option<String>,
    pub rules: Option<RawRules>,
    pub overrides: Option<Vec<RawOverride>>,
}

/// One entry of `overrides`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawOverride {
    pub paths: Vec<Spanned<String>>,
    pub fail_on: Option<Spanned<String>>,
    pub target: Option<String>,
    pub rules: Option<RawRules>,
}

/// `rules:`: rule code or name → level, in file order.
#[derive(Debug, Default)]
pub(crate) struct RawRules(pub Vec<(Spanned<String>, Spanned<String>)>);

impl<'de> Deserialize<'de> for RawRules {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RulesVisitor;

        impl<'de> Visitor<'de> for RulesVisitor {
            type Value = RawRules;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of rule code or name to off, on, error, warning or info")
            }

            fn visit_unit<E: serde::de::Error>(self) -> Result<RawRules, E> {
                Ok(RawRules::default())
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawRules, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(RawRules(entries))
            }
        }

        deserializer.deserialize_map(RulesVisitor)
    }
}
