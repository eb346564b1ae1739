use crate::code_span;
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::package_install::{OsPackageAction, OsPackageManager, os_package_command};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::rules::kept_caches::{Cache, shipped_runs};
use crate::rules::run_words::{LocatedCommand, append_offset, located_run_commands};
use crate::shell_command::{SimpleCommand, run_commands};
use crate::shipped_stages::lineage_of_instruction;
use layercake_model::resolve_path;
use layercake_syntax::{Args, Instruction, Keyword, MountType, TextRange};

/// A RUN that deletes what an earlier layer wrote: the bytes stay in the image.
pub struct CleanupInLaterLayer;

static META: RuleMeta = RuleMeta {
    code: "LC301",
    name: "cleanup-in-later-layer",
    category: Category::Size,
    default_severity: Severity::Warning,
    summary: "A RUN deletes files that an earlier layer wrote, which does not shrink the image",
    doc: r#"## What it does
Reports a RUN, in a stage whose layers ship (the build target and the stages
it is built `FROM`), that removes something an earlier RUN, COPY or ADD of
the same stage or of a stage it is built FROM put in its own layer:

- package-manager caches: `rm -rf /var/lib/apt/lists/*` after an earlier
  `apt-get update`; `/var/cache/apk` or `apk cache clean` after `apk add`
  without `--no-cache`; `yum`/`dnf clean all` after an install; `pip cache
  purge` or `rm -rf ~/.cache/pip` after `pip install`; `npm cache clean` and
  `yarn cache clean` after an install;
- packages: `apt-get purge`, `apk del`, `yum remove` of a package (or apk
  virtual package such as `.build-deps`) an earlier RUN installed;
- files: `rm` of a file an earlier COPY/ADD put there by name, or of a path
  an earlier RUN downloaded or unpacked into (`curl -o`, `wget -O`/`-P`,
  `git clone`, `tar -C`, `unzip -d`, `cp`/`mv`, `cd DIR && curl …`).

`apt-get clean` alone is not judged: Debian and Ubuntu images delete
downloaded `.deb` files after each install (`docker-clean`), so an earlier
layer holds none. Matching is deliberately narrow: a path counts only when the earlier step
names it (or a file under it), never because it merely wrote somewhere
nearby. A RUN whose cache or tmpfs mount holds the directory is not judged:
its deletions touch the mount, not the layers. Builder stages are left
alone: only what `COPY --from` takes leaves them.

## Why is this bad?
Each RUN, COPY and ADD adds a layer, and the image is all layers stacked. A
deletion in a later layer only hides the files: the earlier layer still holds
every byte, and every pull downloads it. Cleaning up shrinks the image only in
the same RUN that wrote the files.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl
RUN rm -rf /var/lib/apt/lists/*
```

## Use instead
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
```
For a file brought in by COPY only to be unpacked, mount it instead, so it
never becomes a layer:
```dockerfile
RUN --mount=type=bind,source=big.tar.gz,target=/tmp/big.tar.gz \
    tar -xzf /tmp/big.tar.gz -C /opt
```

## Fix safety
When one RUN wrote everything the cleanup removes and no RUN in between
could need it, the fix appends the cleanup to that RUN (` && …`) and deletes
the later RUN if the cleanup was all it did. It is unsafe: steps in between
are moved past the cleanup. When a COPY wrote the file, a display-only fix
sketches the bind mount; in other cases the message explains the change and
there is no fix.

## Equivalents
hadolint: none (DL3009 and DL3019 only look inside one RUN). BuildKit
checks: none. dive reports the wasted bytes of a built image.
"#,
};

/// What a cleanup command removes, and who wrote it.
struct Cleanup {
    /// Position of the command in the cleanup RUN.
    position: usize,
    /// Instruction indexes that wrote what it removes.
    creators: Vec<usize>,
    /// Whether it removes a package-manager cache (which nothing later needs)
    /// rather than packages or files (which the cleanup RUN may use first).
    cache_only: bool,
    /// Whether only apt commands between would use it (apt lists).
    apt_between_blocks: bool,
    /// What it removes, for the message.
    what: String,
}

impl Rule for CleanupInLaterLayer {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let all_commands = ctx.run_commands;
        for (index, run) in shipped_runs(ctx) {
            let Some(commands) = all_commands.get(index) else {
                continue;
            };
            let cleanups = find_cleanups(ctx, index, run, commands, all_commands);
            if cleanups.is_empty() {
                continue;
            }
            report(ctx, sink, index, run, commands, &cleanups);
        }
    }
}

/// How far back a cleanup looks for what created the files it removes. A
/// cleanup hundreds of instructions after the step that created the files is
/// rare; the bound keeps linting linear in the length of the file.
const LOOKBACK: usize = 256;

fn find_cleanups(
    ctx: &LintContext<'_>,
    index: usize,
    run: &Instruction,
    commands: &[SimpleCommand],
    all_commands: &[Vec<SimpleCommand>],
) -> Vec<Cleanup> {
    let lineage = lineage_of_instruction(ctx.model, index);
    let earlier: Vec<usize> = (index.saturating_sub(LOOKBACK)..index)
        .filter(|&i| {
            ctx.model
                .stage_of_instruction(i)
                .is_some_and(|s| lineage.contains(&s))
        })
        .collect();
    let state = ctx.model.state_at(index);
    let workdir = state.map_or("/", |s| s.workdir.as_str());
    let mut cleanups = Vec::new();
    for (position, command) in commands.iter().enumerate() {
        // Caches.
        let mut handled_as_cache = false;
        for cache in Cache::ALL {
            if !cache.is_removed_by(command) {
                continue;
            }
            handled_as_cache = true;
            if cache.is_held_elsewhere(run, state) {
                continue;
            }
            // The RUNs that left the cache behind since it was last removed
            // (an earlier removal already answered for the ones before it).
            let mut creators: Vec<usize> = Vec::new();
            for &i in earlier.iter().rev() {
                let (Some(c), Some(c_commands)) =
                    (ctx.dockerfile.instructions.get(i), all_commands.get(i))
                else {
                    continue;
                };
                if c.keyword != Keyword::Run {
                    continue;
                }
                if !cache
                    .kept_by(c, c_commands, ctx.model.state_at(i))
                    .is_empty()
                {
                    creators.push(i);
                } else if c_commands.iter().any(|cc| cache.is_removed_by(cc))
                    && !cache.is_held_elsewhere(c, ctx.model.state_at(i))
                {
                    break;
                }
            }
            creators.reverse();
            if !creators.is_empty() {
                cleanups.push(Cleanup {
                    position,
                    creators,
                    cache_only: true,
                    apt_between_blocks: cache == Cache::AptLists,
                    what: cache.describe().to_string(),
                });
            }
        }
        if handled_as_cache {
            continue;
        }
        // Packages.
        if let Some(package_command) = os_package_command(command)
            && let OsPackageAction::Remove { packages } = &package_command.action
        {
            let installed_here = |name: &str| {
                commands[..position].iter().any(|c| {
                    matches!(os_package_command(c).map(|p| p.action),
                        Some(OsPackageAction::Install { packages }) if packages.iter().any(|p| package_name(p) == name))
                })
            };
            let mut creators = Vec::new();
            let mut names = Vec::new();
            for package in packages.iter().map(|p| package_name(p)) {
                if installed_here(package) {
                    continue;
                }
                let found: Vec<usize> = earlier
                    .iter()
                    .copied()
                    .filter(|&i| {
                        ctx.dockerfile.instructions.get(i).is_some_and(|c| {
                            c.keyword == Keyword::Run
                                && installs(
                                    all_commands.get(i).map_or(&[][..], Vec::as_slice),
                                    package_command.manager,
                                    package,
                                )
                        })
                    })
                    .collect();
                if !found.is_empty() {
                    names.push(package.to_string());
                    creators.extend(found);
                }
            }
            if !creators.is_empty() {
                creators.sort_unstable();
                creators.dedup();
                cleanups.push(Cleanup {
                    position,
                    creators,
                    cache_only: false,
                    apt_between_blocks: false,
                    what: format!(
                        "the package{} {}",
                        if names.len() > 1 { "s" } else { "" },
                        names.join(", ")
                    ),
                });
            }
            continue;
        }
        // Files.
        if command.program() != "rm" {
            continue;
        }
        let cd_before = commands[..position].iter().any(|c| c.program() == "cd");
        let targets: Vec<String> = command
            .args()
            .iter()
            .filter(|a| !a.starts_with('-') && !a.contains('$'))
            .filter(|a| a.starts_with('/') || !cd_before)
            .map(|a| resolve_path(workdir, a))
            .filter(|t| !t.is_empty() && t != "/")
            .collect();
        if targets.is_empty() || run_mounts_cover(run, &targets) {
            continue;
        }
        // (instruction, path, written under names it did not spell out)
        let mut matches: Vec<(usize, String, bool)> = Vec::new();
        for &i in &earlier {
            let Some(creator) = ctx.dockerfile.instructions.get(i) else {
                continue;
            };
            let creator_workdir = ctx.model.state_at(i).map_or("/", |s| s.workdir.as_str());
            let written = written_paths(creator, creator_workdir);
            for target in &targets {
                if let Some(path) = written.iter().find(|w| w.removed_by(target)) {
                    matches.push((i, path.path.clone(), path.contents_unnamed));
                }
            }
        }
        // Of the directories something was unpacked into, only the deepest
        // is the likely source of what is removed.
        let deepest = matches
            .iter()
            .filter(|m| m.2)
            .map(|m| m.1.len())
            .max()
            .unwrap_or(0);
        matches.retain(|m| !m.2 || m.1.len() == deepest);
        let mut creators: Vec<usize> = matches.iter().map(|m| m.0).collect();
        creators.sort_unstable();
        creators.dedup();
        let mut what: Vec<String> = Vec::new();
        for (_, path, unnamed) in &matches {
            let shown = if *unnamed {
                format!("files written into {path}")
            } else {
                path.clone()
            };
            if !what.contains(&shown) {
                what.push(shown);
            }
        }
        if !creators.is_empty() {
            cleanups.push(Cleanup {
                position,
                creators,
                cache_only: false,
                apt_between_blocks: false,
                what: what.join(", "),
            });
        }
    }
    cleanups
}

fn report(
    ctx: &LintContext<'_>,
    sink: &mut FindingSink<'_>,
    index: usize,
    run: &Instruction,
    commands: &[SimpleCommand],
    cleanups: &[Cleanup],
) {
    let located = located_run_commands(run, ctx.source, ctx.dockerfile.escape);
    let command_range = |position: usize| {
        located
            .as_ref()
            .and_then(|l| l.get(position))
            .and_then(LocatedCommand::range)
    };
    let range = cleanups
        .iter()
        .filter_map(|c| command_range(c.position))
        .reduce(TextRange::cover)
        .unwrap_or(run.range);
    let mut creators: Vec<usize> = cleanups.iter().flat_map(|c| c.creators.clone()).collect();
    creators.sort_unstable();
    creators.dedup();
    let lines: Vec<String> = creators
        .iter()
        .filter_map(|&i| ctx.dockerfile.instructions.get(i))
        .map(|i| ctx.line_of(i.range.start()).to_string())
        .collect();
    let removed: Vec<String> = cleanups
        .iter()
        .filter_map(|c| commands.get(c.position))
        .map(|c| code_span(&c.display()))
        .collect();
    let what: Vec<&str> = cleanups.iter().map(|c| c.what.as_str()).collect();
    let several = lines.len() > 1;
    let copied = creators.iter().any(|&i| {
        ctx.dockerfile
            .instructions
            .get(i)
            .is_some_and(|c| c.keyword != Keyword::Run)
    });
    let advice = if copied {
        "mount the file for the RUN that uses it (`RUN --mount=type=bind,source=…,target=…`) or fetch, use and delete it in one RUN"
    } else {
        "clean up in the same RUN that wrote it"
    };
    let message = format!(
        "{} removes {}, which line{} {} already stored in {} layer{}; a deletion in a later layer does not shrink the image, so {advice}",
        removed.join(" and "),
        what.join("; "),
        if several { "s" } else { "" },
        lines.join(", "),
        if several { "their" } else { "its" },
        if several { "s" } else { "" },
    );
    let fix = fold_fix(
        ctx,
        index,
        run,
        commands,
        cleanups,
        &creators,
        located.as_deref(),
    )
    .or_else(|| bind_mount_sketch(ctx, run, commands, cleanups, &creators, located.as_deref()));
    sink.report(range, message, fix);
}

/// Folds the cleanup into the one RUN that wrote everything, when that is
/// straightforward: a cache cleanup is appended to that RUN (it never breaks
/// a later step, except apt lists before a later apt command); removing
/// packages or files needs what the cleanup RUN does first, so the two RUNs
/// are merged instead, only when nothing stands between them.
fn fold_fix(
    ctx: &LintContext<'_>,
    index: usize,
    run: &Instruction,
    commands: &[SimpleCommand],
    cleanups: &[Cleanup],
    creators: &[usize],
    located: Option<&[LocatedCommand]>,
) -> Option<Fix> {
    let [creator_index] = creators else {
        return None;
    };
    let creator = ctx.dockerfile.instructions.get(*creator_index)?;
    if creator.keyword != Keyword::Run {
        return None;
    }
    let creator_located = located_run_commands(creator, ctx.source, ctx.dockerfile.escape)?;
    let at = append_offset(&creator_located)?;
    let located = located?;
    let creator_line = ctx.line_of(creator.range.start());
    let between: Vec<&Instruction> = (*creator_index + 1..index)
        .filter_map(|i| ctx.dockerfile.instructions.get(i))
        .collect();
    if cleanups.iter().all(|c| c.cache_only) {
        let apt = cleanups.iter().any(|c| c.apt_between_blocks);
        let blocked = between.iter().any(|r| {
            r.keyword == Keyword::Run
                && apt
                && ctx.commands_of(r).iter().any(|c| {
                    os_package_command(c).is_some_and(|p| p.manager == OsPackageManager::Apt)
                })
        });
        if blocked {
            return None;
        }
        // The matched cleanups, with any package-manager clean next to them.
        let moved: Vec<usize> = commands
            .iter()
            .enumerate()
            .filter(|(i, c)| {
                cleanups.iter().any(|k| k.position == *i)
                    || os_package_command(c).is_some_and(|p| p.action == OsPackageAction::Clean)
            })
            .map(|(i, _)| i)
            .collect();
        let texts: Vec<&str> = moved
            .iter()
            .filter_map(|&i| located.get(i)?.range())
            .map(|r| r.slice(ctx.source))
            .collect();
        if texts.len() != moved.len() {
            return None;
        }
        let mut edits = vec![Edit {
            range: TextRange::empty(at),
            replacement: format!(" && {}", texts.join(" && ")),
        }];
        let only_cleanup = commands
            .iter()
            .enumerate()
            .all(|(i, c)| moved.contains(&i) || matches!(c.program(), "set" | "true" | ":"));
        let description = if only_cleanup {
            edits.push(Edit {
                range: whole_lines(ctx, run),
                replacement: String::new(),
            });
            format!("Move the cleanup into the RUN on line {creator_line}")
        } else {
            format!("Also clean up in the RUN on line {creator_line}")
        };
        return Some(Fix {
            description,
            edits,
            applicability: Applicability::Unsafe,
        });
    }
    // Merge the RUNs: only with nothing between them that changes what the
    // cleanup RUN sees, no options on it, no `cd` in the creator (the merged
    // commands would run elsewhere) and only `&&` between its commands.
    let quiet_between = between.iter().all(|i| {
        matches!(
            i.keyword,
            Keyword::Label | Keyword::Expose | Keyword::Maintainer | Keyword::Stopsignal
        )
    });
    let creator_cds = ctx.commands_of(creator).iter().any(|c| c.program() == "cd");
    if !quiet_between || !run.flags.is_empty() || creator_cds || !and_list_only(ctx, run, located) {
        return None;
    }
    let first = located.first()?.range()?;
    let last = located.last()?.range()?;
    Some(Fix {
        description: format!("Merge this RUN into the RUN on line {creator_line}"),
        edits: vec![
            Edit {
                range: TextRange::empty(at),
                replacement: format!(" && {}", first.cover(last).slice(ctx.source)),
            },
            Edit {
                range: whole_lines(ctx, run),
                replacement: String::new(),
            },
        ],
        applicability: Applicability::Unsafe,
    })
}

/// Whether the RUN's commands are joined by `&&` alone (so appending them
/// after another `&&` keeps their meaning), with nothing after the last one.
fn and_list_only(ctx: &LintContext<'_>, run: &Instruction, located: &[LocatedCommand]) -> bool {
    if !run.heredocs.is_empty() || located.iter().any(|c| c.in_heredoc) {
        return false;
    }
    let ranges: Option<Vec<TextRange>> = located.iter().map(LocatedCommand::range).collect();
    let Some(ranges) = ranges else {
        return false;
    };
    let only = |text: &str, wanted: &str| {
        let squeezed: String = text
            .replace("\\\n", " ")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        squeezed == wanted
    };
    let gaps_ok = ranges.windows(2).all(|w| {
        ctx.source
            .get(w[0].end()..w[1].start())
            .is_some_and(|gap| only(gap, "&&"))
    });
    let tail_ok = ranges
        .last()
        .and_then(|r| ctx.source.get(r.end()..run.range.end()))
        .is_some_and(|tail| only(tail, ""));
    gaps_ok && tail_ok
}

/// For a file a COPY put in a layer only to be used and deleted by this RUN:
/// mount it for the RUN instead and drop the `rm` (display only: another
/// step may use the file too). Offered when the `rm` is the RUN's last
/// command, after `&&`, and removes only that file.
fn bind_mount_sketch(
    ctx: &LintContext<'_>,
    run: &Instruction,
    commands: &[SimpleCommand],
    cleanups: &[Cleanup],
    creators: &[usize],
    located: Option<&[LocatedCommand]>,
) -> Option<Fix> {
    let ([creator_index], [cleanup]) = (creators, cleanups) else {
        return None;
    };
    let located = located?;
    let rm = commands.get(cleanup.position)?;
    let operands = rm.args().iter().filter(|a| !a.starts_with('-')).count();
    if cleanup.position + 1 != commands.len() || cleanup.position == 0 || operands != 1 {
        return None;
    }
    let previous_end = located.get(cleanup.position - 1)?.range()?.end();
    let rm_range = located.get(cleanup.position)?.range()?;
    let gap = ctx.source.get(previous_end..rm_range.start())?;
    if gap.trim_matches(|c: char| c.is_whitespace() || c == '\\') != "&&" {
        return None;
    }
    let copy = ctx.dockerfile.instructions.get(*creator_index)?;
    if copy.keyword != Keyword::Copy && copy.keyword != Keyword::Add {
        return None;
    }
    let Args::Files {
        sources,
        dest: Some(dest),
        ..
    } = &copy.args
    else {
        return None;
    };
    let [source] = sources.as_slice() else {
        return None;
    };
    if source.text.contains(['*', '?', '[', '$']) || source.text.contains("://") {
        return None;
    }
    let workdir = ctx
        .model
        .state_at(*creator_index)
        .map_or("/", |s| s.workdir.as_str());
    let target = if dest.text.ends_with('/') {
        join(&join(workdir, &dest.text), basename(&source.text))
    } else {
        join(workdir, &dest.text)
    };
    let from = copy
        .flag("from")
        .and_then(|f| f.value.as_deref())
        .map(|f| format!(",from={f}"))
        .unwrap_or_default();
    Some(Fix {
        description: "Bind-mount the file for this RUN instead of copying it into a layer"
            .to_string(),
        edits: vec![
            Edit {
                range: whole_lines(ctx, copy),
                replacement: String::new(),
            },
            Edit {
                range: TextRange::empty(run.keyword_word.range.end()),
                replacement: format!(
                    " --mount=type=bind{from},source={},target={}",
                    source.text,
                    resolve_path("/", &target)
                ),
            },
            Edit {
                range: TextRange::new(previous_end, rm_range.end()),
                replacement: String::new(),
            },
        ],
        applicability: Applicability::DisplayOnly,
    })
}

/// The instruction's lines, with the line break after them.
fn whole_lines(ctx: &LintContext<'_>, instruction: &Instruction) -> TextRange {
    let start = ctx
        .line_index
        .line_start(ctx.line_of(instruction.range.start()));
    let end = ctx.source[instruction.range.end()..]
        .find('\n')
        .map_or(ctx.source.len(), |i| instruction.range.end() + i + 1);
    TextRange::new(start, end)
}

/// A path an earlier step wrote.
struct WrittenPath {
    path: String,
    /// A directory the step wrote into under names it did not spell out
    /// (`cd /tmp && curl -LO …`): removing anything under it counts.
    contents_unnamed: bool,
}

impl WrittenPath {
    /// Whether `rm` of `target` (normalized; `/*` kept) removes what was written.
    fn removed_by(&self, target: &str) -> bool {
        let dir = target.trim_end_matches("/*");
        let under = |path: &str, dir: &str| path.starts_with(&format!("{dir}/"));
        self.path == target
            || self.path == dir
            || under(&self.path, dir)
            || (self.contents_unnamed && under(target, &self.path))
    }
}

/// The paths a COPY/ADD or a RUN wrote, by name.
fn written_paths(instruction: &Instruction, workdir: &str) -> Vec<WrittenPath> {
    match instruction.keyword {
        Keyword::Copy | Keyword::Add => copied_paths(instruction, workdir),
        Keyword::Run => downloaded_paths(instruction, workdir),
        _ => Vec::new(),
    }
}

fn copied_paths(instruction: &Instruction, workdir: &str) -> Vec<WrittenPath> {
    let Args::Files {
        sources,
        dest: Some(dest),
        ..
    } = &instruction.args
    else {
        return Vec::new();
    };
    if dest.text.contains('$') {
        return Vec::new();
    }
    let dest_path = join(workdir, &dest.text);
    let into_dir = dest.text.ends_with('/') || sources.len() > 1;
    sources
        .iter()
        .filter(|s| {
            !s.text.contains(['*', '?', '[', '$'])
                && !matches!(s.text.as_str(), "." | "./" | "/")
                && !s.text.starts_with("<<")
        })
        .map(|s| {
            let url = s.text.contains("://");
            let name = basename(s.text.split(['?', '#']).next().unwrap_or(&s.text));
            let path = if into_dir || url && dest.text.ends_with('/') {
                join(&dest_path, name)
            } else {
                dest_path.clone()
            };
            WrittenPath {
                path: resolve_path("/", &path),
                contents_unnamed: false,
            }
        })
        .collect()
}

/// Paths a RUN downloads or unpacks into, named on its command line, that the
/// RUN itself does not remove and no mount of it holds.
fn downloaded_paths(run: &Instruction, workdir: &str) -> Vec<WrittenPath> {
    let commands = run_commands(run);
    let mut cwd = Some(workdir.to_string());
    let mut written: Vec<WrittenPath> = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    for command in &commands {
        let args = command.args();
        let resolve = |p: &str, cwd: &Option<String>| -> Option<String> {
            if p.contains('$') || p.is_empty() {
                return None;
            }
            if p.starts_with('/') {
                return Some(resolve_path("/", p));
            }
            cwd.as_ref().map(|c| resolve_path(c, p))
        };
        // `-o FILE`, also at the end of a cluster of short options (`-fsSLo FILE`).
        let value_after = |names: &[&str]| -> Vec<&str> {
            args.windows(2)
                .filter(|w| {
                    let option = w[0].as_str();
                    names.iter().any(|n| {
                        option == *n
                            || (n.len() == 2
                                && !option.starts_with("--")
                                && option.starts_with('-')
                                && option.ends_with(&n[1..]))
                    })
                })
                .map(|w| w[1].as_str())
                .collect()
        };
        let short_flag = |letter: char| {
            args.iter()
                .any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains(letter))
        };
        let operands: Vec<&str> = args
            .iter()
            .filter(|a| !a.starts_with('-'))
            .map(String::as_str)
            .collect();
        let mut named: Vec<&str> = Vec::new();
        let mut into: Vec<&str> = Vec::new();
        match command.program() {
            "cd" => {
                cwd = operands.first().and_then(|d| resolve(d, &cwd));
                continue;
            }
            "rm" => {
                removed.extend(operands.iter().filter_map(|p| resolve(p, &cwd)));
                continue;
            }
            "curl" => {
                named.extend(value_after(&["-o", "--output"]));
                if short_flag('O') || command.has_flag("--remote-name") {
                    into.extend(cwd.as_deref());
                }
            }
            "wget" => {
                named.extend(value_after(&["-O", "--output-document"]));
                into.extend(value_after(&["-P", "--directory-prefix"]));
                if named.is_empty() && into.is_empty() {
                    into.extend(cwd.as_deref());
                }
            }
            "git" if command.subcommand() == Some("clone") && operands.len() >= 3 => {
                named.extend(operands.last());
            }
            "tar" => into.extend(value_after(&["-C", "--directory"])),
            "unzip" => into.extend(value_after(&["-d"])),
            "cp" | "mv" if operands.len() >= 2 => named.extend(operands.last()),
            _ => {}
        }
        let cwd_now = cwd.clone();
        written.extend(
            named
                .iter()
                .filter_map(|p| resolve(p, &cwd_now))
                .map(|path| WrittenPath {
                    path,
                    contents_unnamed: false,
                }),
        );
        written.extend(
            into.iter()
                .filter_map(|p| resolve(p, &cwd_now))
                .filter(|p| p != "/")
                .map(|path| WrittenPath {
                    path,
                    contents_unnamed: true,
                }),
        );
    }
    written.retain(|w| {
        !removed.iter().any(|r| {
            WrittenPath {
                path: w.path.clone(),
                contents_unnamed: false,
            }
            .removed_by(r)
        }) && !run_mounts_cover(run, std::slice::from_ref(&w.path))
    });
    written
}

/// Whether a cache, tmpfs or bind mount of the RUN holds one of `paths`.
fn run_mounts_cover(run: &Instruction, paths: &[String]) -> bool {
    run.mounts().any(|m| {
        matches!(
            m.kind,
            MountType::Cache | MountType::Tmpfs | MountType::Bind
        ) && m.target.as_deref().is_some_and(|t| {
            let t = resolve_path("/", t);
            paths.iter().any(|p| {
                let p = p.trim_end_matches("/*");
                p == t || p.starts_with(&format!("{t}/"))
            })
        })
    })
}

/// Whether an earlier RUN installs `package` with the same manager family.
fn installs(commands: &[SimpleCommand], manager: OsPackageManager, package: &str) -> bool {
    commands.iter().any(|c| {
        os_package_command(c).is_some_and(|p| {
            p.manager == manager
                && matches!(&p.action, OsPackageAction::Install { packages } if packages.iter().any(|q| package_name(q) == package))
        })
    })
}

/// `gcc=4:12.2.0-3` → `gcc`; `.build-deps` stays.
fn package_name(package: &str) -> &str {
    package.split('=').next().unwrap_or(package)
}

fn basename(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
}

fn join(base: &str, path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{}/{path}", base.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sketches_a_bind_mount_for_a_copied_archive() {
        let source = "FROM debian:bookworm-slim\nCOPY big.tar.gz /tmp/\nRUN tar -xzf /tmp/big.tar.gz -C /opt && rm /tmp/big.tar.gz\n";
        let report = crate::lint_source("Dockerfile", source, &crate::LintSettings::default());
        let fix = report
            .findings
            .iter()
            .find(|f| f.code == "LC301")
            .and_then(|f| f.fix.clone());
        let Some(fix) = fix else {
            panic!("no LC301 fix");
        };
        assert_eq!(fix.applicability, Applicability::DisplayOnly);
        let display = Fix {
            applicability: Applicability::Safe,
            ..fix
        };
        let (fixed, _) = crate::apply_fixes(source, [&display]);
        assert_eq!(
            fixed,
            "FROM debian:bookworm-slim\nRUN --mount=type=bind,source=big.tar.gz,target=/tmp/big.tar.gz tar -xzf /tmp/big.tar.gz -C /opt\n"
        );
    }

    #[test]
    fn normalizes_and_matches_paths() {
        assert_eq!(resolve_path("/", "/tmp//x/../y/"), "/tmp/y");
        assert_eq!(resolve_path("/", "/tmp/*"), "/tmp/*");
        let file = WrittenPath {
            path: "/tmp/big.tar.gz".into(),
            contents_unnamed: false,
        };
        assert!(file.removed_by("/tmp/big.tar.gz"));
        assert!(file.removed_by("/tmp/*"));
        assert!(file.removed_by("/tmp"));
        assert!(!file.removed_by("/tmp/other"));
        let dir = WrittenPath {
            path: "/tmp".into(),
            contents_unnamed: true,
        };
        assert!(dir.removed_by("/tmp/node-v22.tar.xz"));
        assert!(!dir.removed_by("/var/tmp/x"));
    }
}
