//! Build packages left in a final image: evidence for the multi-stage findings.

use layercake_image::Package;
use serde::Serialize;

/// The build packages (compilers, headers, build tools) a final image holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BuildPackages {
    /// The packages, largest first (then by name).
    pub packages: Vec<Package>,
    /// Their installed size, summed.
    pub bytes: u64,
}

impl BuildPackages {
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }

    /// One line of evidence: `gcc-12 and 40 more build packages: 310.2 MB`
    /// (`format_bytes` renders the size). `None` when there are none.
    pub fn summary(&self, format_bytes: impl Fn(u64) -> String) -> Option<String> {
        let first = self.packages.first()?;
        let size = format_bytes(self.bytes);
        Some(match self.packages.len() {
            1 => format!("build package {} in the final image: {size}", first.name),
            n => format!(
                "{} and {} more build package{} in the final image: {size}",
                first.name,
                n - 1,
                if n == 2 { "" } else { "s" }
            ),
        })
    }
}

/// The packages of `installed` that only building software needs (the same
/// list the linter uses for LC108), largest first.
pub fn build_packages(installed: &[Package]) -> BuildPackages {
    let mut packages: Vec<Package> = installed
        .iter()
        .filter(|p| layercake_lint::is_build_package(&p.name))
        .cloned()
        .collect();
    packages.sort_by(|a, b| {
        b.installed_bytes
            .cmp(&a.installed_bytes)
            .then_with(|| a.name.cmp(&b.name))
    });
    let bytes = packages.iter().map(|p| p.installed_bytes).sum();
    BuildPackages { packages, bytes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use layercake_image::PackageManager;

    fn package(name: &str, kib: u64) -> Package {
        Package {
            name: name.to_string(),
            version: None,
            installed_bytes: kib * 1024,
            manager: PackageManager::Dpkg,
        }
    }

    #[test]
    fn keeps_build_packages_largest_first() {
        let installed = [
            package("libc6", 12_000),
            package("gcc-12", 60_000),
            package("libssl-dev", 9_000),
            package("make", 400),
            package("curl", 500),
        ];
        let found = build_packages(&installed);
        let names: Vec<&str> = found.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["gcc-12", "libssl-dev", "make"]);
        assert_eq!(found.bytes, (60_000 + 9_000 + 400) * 1024);
        assert_eq!(
            found.summary(|b| format!("{b} B")).as_deref(),
            Some("gcc-12 and 2 more build packages in the final image: 71065600 B")
        );
        assert_eq!(
            build_packages(&installed[..1]).summary(|b| b.to_string()),
            None
        );
    }
}
