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
    pub budget: Option<RawBudget>,
    pub images: Option<Vec<Spanned<RawImage>>>,
}

/// One entry of `overrides`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawOverride {
    pub paths: Vec<Spanned<String>>,
    pub fail_on: Option<Spanned<String>>,
    pub target: Option<String>,
    pub rules: Option<RawRules>,
    pub budget: Option<RawBudget>,
}

/// `budget:`, at the top level, in an override or in an image entry. Sizes
/// and the percentage are read as text (numbers as written) and parsed later.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawBudget {
    pub max_growth: Option<Spanned<String>>,
    pub max_growth_percent: Option<Spanned<String>>,
    pub max_size: Option<Spanned<String>>,
    pub compressed: Option<bool>,
}

/// One entry of `images`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawImage {
    pub dockerfile: Spanned<String>,
    pub context: Option<Spanned<String>>,
    pub target: Option<Spanned<String>>,
    pub build_args: Option<RawBuildArgs>,
    pub platform: Option<Spanned<String>>,
    pub secrets: Option<Vec<Spanned<RawSecret>>>,
    pub budget: Option<RawBudget>,
}

/// One entry of an image's `secrets`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawSecret {
    pub id: Spanned<String>,
    pub src: Option<Spanned<String>>,
    pub env: Option<Spanned<String>>,
}

/// `build-args:`: name → value, in file order. A scalar value is read as
/// written (`1`, `true` stay text); `None` is a null value.
#[derive(Debug, Default)]
pub(crate) struct RawBuildArgs(pub Vec<(Spanned<String>, Spanned<Option<String>>)>);

impl<'de> Deserialize<'de> for RawBuildArgs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BuildArgsVisitor;

        impl<'de> Visitor<'de> for BuildArgsVisitor {
            type Value = RawBuildArgs;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of build argument name to value")
            }

            fn visit_unit<E: serde::de::Error>(self) -> Result<RawBuildArgs, E> {
                Ok(RawBuildArgs::default())
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawBuildArgs, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(RawBuildArgs(entries))
            }
        }

        deserializer.deserialize_map(BuildArgsVisitor)
    }
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
