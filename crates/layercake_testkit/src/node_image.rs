//! Stand-ins for the official Node.js images, `node:22` (~1 GB, a compiler
//! toolchain beside Node) and `node:22-slim` (~200 MB), made in seconds with
//! `docker import` so tests can tell the story of a multi-stage rewrite through
//! a real engine without a registry.
//!
//! Each is a busybox root filesystem ([`crate::busybox_base`]'s) with:
//! - a `node` user (uid 1000, home `/home/node`), as the official images have;
//! - `/usr/local/bin/npm`, a shell script doing what `npm ci`, `npm install`,
//!   `npm run build` and `npm cache clean` do to the file system, offline:
//!   `npm ci` writes `node_modules` (about 3 MB of production dependencies, and
//!   about 40 MB more of devDependencies unless `--omit=dev`, `--production` or
//!   `NODE_ENV=production`) and npm's download cache in `~/.npm` (about 10 MB,
//!   removed by `npm cache clean --force`); `npm run build` compiles
//!   `src/*.ts` into `dist/*.js` and fails without the devDependencies, as a
//!   TypeScript build would;
//! - `/usr/local/bin/node`, a shell script that prints a version;
//! - files of zeros, cheap to store and to compress, where the real images
//!   keep their bulk (Node's runtime library, npm, the C library, ICU; for the
//!   full image gcc, g++, headers, Python, git, ImageMagick and their `-dev`
//!   packages), listed in a dpkg status file with their sizes, so the image's
//!   packages and build packages read as they would on the real image.

use crate::{ImageGuard, append_busybox_rootfs, assert_success, find_busybox, unique_tag};
use layercake_build::Docker;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

/// Which official Node.js image to stand in for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeImage {
    /// `node:22`: Debian with a compiler toolchain (buildpack-deps), ~1 GB.
    Full,
    /// `node:22-slim`: Debian with only what Node needs to run, ~200 MB.
    Slim,
}

impl NodeImage {
    /// The official tag this image stands in for: `22` or `22-slim`.
    pub fn tag(self) -> &'static str {
        match self {
            NodeImage::Full => "22",
            NodeImage::Slim => "22-slim",
        }
    }

    /// The size of the image's files, in bytes (what `docker image inspect`
    /// reports, give or take the busybox binary and the small files).
    pub fn approximate_bytes(self) -> u64 {
        self.files()
            .iter()
            .map(|(_, mib, _)| mib * MIB)
            .sum::<u64>()
    }

    /// The bulk files: path, size in MiB, the dpkg package they belong to.
    fn files(self) -> Vec<(&'static str, u64, &'static str)> {
        let mut files = RUNTIME_FILES.to_vec();
        if self == NodeImage::Full {
            files.extend_from_slice(TOOLCHAIN_FILES);
        }
        files
    }
}

const MIB: u64 = 1024 * 1024;

/// What both variants hold: Node and what it runs on.
const RUNTIME_FILES: &[(&str, u64, &str)] = &[
    ("usr/local/lib/libnode.so.127", 96, "nodejs"),
    ("usr/local/include/node/v8.h", 6, "nodejs"),
    ("usr/local/lib/node_modules/npm/lib/npm.js", 10, "nodejs"),
    (
        "usr/local/lib/node_modules/corepack/dist/corepack.js",
        4,
        "nodejs",
    ),
    ("usr/lib/x86_64-linux-gnu/libc.so.6", 12, "libc6"),
    ("usr/lib/x86_64-linux-gnu/libstdc++.so.6", 3, "libstdc++6"),
    ("usr/lib/x86_64-linux-gnu/libcrypto.so.3", 6, "libssl3"),
    ("usr/lib/x86_64-linux-gnu/libicudata.so.72", 31, "libicu72"),
    ("usr/share/zoneinfo/zone.tab", 3, "tzdata"),
    ("usr/share/perl5/Debian/DebConf.pm", 9, "debconf"),
    ("usr/bin/apt-get", 4, "apt"),
];

/// What only the full image holds: buildpack-deps' toolchain.
const TOOLCHAIN_FILES: &[(&str, u64, &str)] = &[
    ("usr/lib/gcc/x86_64-linux-gnu/12/cc1", 34, "cpp-12"),
    ("usr/lib/gcc/x86_64-linux-gnu/12/cc1plus", 37, "g++-12"),
    ("usr/lib/gcc/x86_64-linux-gnu/12/lto1", 33, "gcc-12"),
    (
        "usr/lib/gcc/x86_64-linux-gnu/12/libstdc++.a",
        6,
        "libstdc++-12-dev",
    ),
    (
        "usr/bin/x86_64-linux-gnu-ld.bfd",
        3,
        "binutils-x86-64-linux-gnu",
    ),
    ("usr/lib/x86_64-linux-gnu/libbfd-2.40.so", 8, "libbinutils"),
    ("usr/include/c++/12/bits/stdc++.h", 12, "libstdc++-12-dev"),
    ("usr/include/x86_64-linux-gnu/bits/types.h", 6, "libc6-dev"),
    ("usr/lib/x86_64-linux-gnu/libc.a", 6, "libc6-dev"),
    ("usr/bin/make", 1, "make"),
    ("usr/lib/python3.11/os.py", 70, "libpython3.11-stdlib"),
    (
        "usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0",
        7,
        "libpython3.11",
    ),
    ("usr/lib/git-core/git", 40, "git"),
    ("usr/lib/x86_64-linux-gnu/libsvn_subr-1.so.1", 20, "libsvn1"),
    (
        "usr/lib/python3/dist-packages/mercurial/__init__.py",
        30,
        "mercurial",
    ),
    (
        "usr/lib/x86_64-linux-gnu/perl/5.36/Config.pm",
        45,
        "perl-modules-5.36",
    ),
    (
        "usr/lib/x86_64-linux-gnu/libMagickCore-6.Q16.so.6",
        10,
        "libmagickcore-6.q16-6",
    ),
    (
        "usr/lib/x86_64-linux-gnu/libMagickCore-6.Q16.a",
        60,
        "libmagickcore-6.q16-dev",
    ),
    (
        "usr/lib/x86_64-linux-gnu/libglib-2.0.a",
        40,
        "libglib2.0-dev",
    ),
    ("usr/lib/x86_64-linux-gnu/libLLVM-15.so.1", 110, "libllvm15"),
    ("usr/lib/x86_64-linux-gnu/libicuuc.a", 35, "libicu-dev"),
    ("usr/lib/x86_64-linux-gnu/libssl.a", 12, "libssl-dev"),
    ("usr/lib/x86_64-linux-gnu/libpq.a", 8, "libpq-dev"),
    ("usr/lib/x86_64-linux-gnu/libxml2.a", 10, "libxml2-dev"),
    ("usr/lib/x86_64-linux-gnu/libmariadb.a", 6, "libmariadb-dev"),
    ("usr/lib/x86_64-linux-gnu/libdb-5.3.a", 5, "libdb5.3-dev"),
    ("usr/lib/x86_64-linux-gnu/libX11.so.6", 8, "libx11-6"),
    ("usr/share/doc/gcc-12/changelog.gz", 60, "gcc-12"),
    ("usr/lib/x86_64-linux-gnu/libgtk-3.so.0", 60, "libgtk-3-0"),
    (
        "usr/share/icons/Adwaita/index.theme",
        40,
        "adwaita-icon-theme",
    ),
];

const NODE_PASSWD: &[u8] = b"root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const NODE_GROUP: &[u8] = b"root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n";

/// The stand-in `npm`: only what the file system sees of it.
const FAKE_NPM: &str = r#"#!/bin/sh
# layercake_testkit's stand-in for npm: offline, for tests.
set -e
zeros() { mkdir -p "$(dirname "$1")"; dd if=/dev/zero of="$1" bs=65536 count=$(( $2 * 16 )) 2>/dev/null; }
case "$1" in
  ci|install)
    [ -f package.json ] || { echo "npm ERR! enoent Could not read package.json" >&2; exit 254; }
    production=false
    [ "$NODE_ENV" = production ] && production=true
    for arg in "$@"; do
      case "$arg" in --omit=dev|--production|--only=production|--only=prod) production=true ;; esac
    done
    rm -rf node_modules
    zeros node_modules/express/lib/express.js 3
    zeros "$HOME/.npm/_cacache/content-v2/express" 3
    if [ "$production" = false ]; then
      zeros node_modules/typescript/lib/typescript.js 30
      zeros node_modules/@types/node/index.d.ts 10
      zeros "$HOME/.npm/_cacache/content-v2/typescript" 7
    fi
    echo "added packages in 1s"
    ;;
  run)
    case "$2" in
      build)
        [ -d node_modules/typescript ] || { echo "sh: 1: tsc: not found" >&2; exit 127; }
        mkdir -p dist
        for source in src/*.ts; do
          [ -f "$source" ] || continue
          name=$(basename "$source" .ts)
          cp "$source" "dist/$name.js"
        done
        ;;
      *) echo "npm ERR! Missing script: \"$2\"" >&2; exit 1 ;;
    esac
    ;;
  cache)
    [ "$2" = clean ] && rm -rf "$HOME/.npm/_cacache"
    ;;
  prune)
    rm -rf node_modules/typescript node_modules/@types
    ;;
  --version|-v) echo 10.9.2 ;;
  *) echo "npm (layercake_testkit stand-in): $* is not supported" >&2; exit 1 ;;
esac
"#;

const FAKE_NODE: &str = "#!/bin/sh\n# layercake_testkit's stand-in for node.\necho v22.12.0\n";

/// Makes a stand-in for the official Node.js image `variant` with `docker
/// import`, under a tag no other test uses whose last component reads like
/// the official one (`layercake-test/node-PID-N-MILLIS/node:22`), so rules
/// that know `node` images see it as one. The image is removed when the guard
/// is dropped. Its config is the official image's: `PATH`, `NODE_VERSION`,
/// `CMD ["node"]`, root as the user.
///
/// The root filesystem is streamed to `docker import` (the full image is
/// ~1 GB of zeros, never held in memory); importing it takes a few seconds.
///
/// # Panics
///
/// When busybox-static is missing or a docker command fails.
pub fn node_image(docker: &Docker, variant: NodeImage) -> ImageGuard {
    let unique = unique_tag("node");
    let suffix = unique.rsplit_once(':').map_or("0", |(_, suffix)| suffix);
    let guard = ImageGuard::new(
        docker,
        format!("layercake-test/node-{suffix}/node:{}", variant.tag()),
    );
    let busybox = find_busybox();
    let mut child = Command::new(docker.binary())
        .args([
            "import",
            "--change",
            &format!("ENV PATH={}", crate::BASE_PATH),
            "--change",
            "ENV NODE_VERSION=22.12.0",
            "--change",
            r#"CMD ["node"]"#,
            "-",
            guard.tag(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", docker.binary().display()));
    let stdin = child.stdin.take().expect("stdin is piped");
    let writer = std::thread::spawn(move || {
        // An error (docker gone) shows up as docker's failure below.
        let _ = write_rootfs(stdin, &busybox, variant);
    });
    let output = child.wait_with_output().expect("docker runs to its end");
    let _ = writer.join();
    assert_success("docker import", &output);
    guard
}

fn write_rootfs(
    out: impl Write,
    busybox: &std::path::Path,
    variant: NodeImage,
) -> std::io::Result<()> {
    let mut builder = tar::Builder::new(out);
    append_busybox_rootfs(&mut builder, busybox, NODE_PASSWD, NODE_GROUP);
    let header = |mode: u32, size: u64, entry: tar::EntryType| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(entry);
        header.set_mode(mode);
        header.set_size(size);
        header.set_mtime(0);
        header
    };
    let mut home = header(0o755, 0, tar::EntryType::Directory);
    home.set_uid(1000);
    home.set_gid(1000);
    builder.append_data(&mut home, "home/node", std::io::empty())?;
    for (path, text) in [
        ("usr/local/bin/npm", FAKE_NPM),
        ("usr/local/bin/node", FAKE_NODE),
    ] {
        let mut script = header(0o755, text.len() as u64, tar::EntryType::Regular);
        builder.append_data(&mut script, path, text.as_bytes())?;
    }
    let files = variant.files();
    for (path, mib, _) in &files {
        let size = mib * MIB;
        let mut file = header(0o644, size, tar::EntryType::Regular);
        builder.append_data(&mut file, path, std::io::repeat(0).take(size))?;
    }
    let status = dpkg_status(&files);
    let mut file = header(0o644, status.len() as u64, tar::EntryType::Regular);
    builder.append_data(&mut file, "var/lib/dpkg/status", status.as_bytes())?;
    builder.into_inner()?.flush()
}

/// A dpkg status file with one installed package per package named in
/// `files`, its `Installed-Size` (KiB) the sum of its files.
fn dpkg_status(files: &[(&str, u64, &str)]) -> String {
    let mut packages: Vec<(&str, u64)> = Vec::new();
    for (_, mib, package) in files {
        match packages.iter_mut().find(|(name, _)| name == package) {
            Some((_, total)) => *total += mib,
            None => packages.push((package, *mib)),
        }
    }
    packages
        .iter()
        .map(|(name, mib)| {
            format!(
                "Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\nInstalled-Size: {}\n\n",
                mib * 1024
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_those_of_the_official_images() {
        let full = NodeImage::Full.approximate_bytes();
        let slim = NodeImage::Slim.approximate_bytes();
        assert!((950_000_000..1_200_000_000).contains(&full), "{full}");
        assert!((150_000_000..260_000_000).contains(&slim), "{slim}");
    }

    #[test]
    fn the_full_image_lists_build_packages_and_the_slim_one_none() {
        let full = dpkg_status(&NodeImage::Full.files());
        assert!(full.contains("Package: gcc-12\n"), "{full}");
        assert!(full.contains("Package: libssl-dev\n"), "{full}");
        let slim = dpkg_status(&NodeImage::Slim.files());
        assert!(slim.contains("Package: nodejs\n"), "{slim}");
        assert!(!slim.contains("-dev\n") && !slim.contains("gcc"), "{slim}");
        // Each package once, with its files' sizes summed.
        assert_eq!(full.matches("Package: libstdc++-12-dev\n").count(), 1);
        assert!(full.contains("Package: libstdc++-12-dev\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\nInstalled-Size: 18432\n"));
    }
}
