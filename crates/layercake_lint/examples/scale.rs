//! Measures how parse + lint time grows with the input: each input shape is
//! generated at two sizes, ten times apart, and the time ratio is printed.
//! Linear code shows a ratio near 10; quadratic code near 100.
//!
//!     cargo run --release -p layercake_lint --example scale [RUNS [SHAPE [FACTOR]]]
//!
//! Not a timed test: machines differ, so it prints figures for BENCHMARKS.md
//! instead of asserting on them. Every line stays below BuildKit's 64 KiB line
//! limit, and every input parses without errors, so the figures are for the
//! normal path, not error recovery.

use layercake_lint::{LintSettings, lint_source};
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// A realistic multi-stage block, repeated to reach a byte size.
const BLOCK: &str = r#"# syntax=docker/dockerfile:1
FROM node:22-alpine AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev && \
    npm cache clean --force
FROM node:22-alpine AS build
ARG NODE_ENV=production
ENV NODE_ENV=${NODE_ENV} PATH=/app/node_modules/.bin:$PATH
WORKDIR /app
COPY . .
RUN npm ci && npm run build
RUN <<EOF
set -eux
apk add --no-cache tini
rm -rf /var/cache/apk/*
EOF
FROM gcr.io/distroless/nodejs22-debian12 AS runtime
LABEL org.opencontainers.image.source="https://example.invalid/app" \
      org.opencontainers.image.licenses="MIT"
COPY --from=build --chown=1000:1000 /app/dist /app/dist
COPY --from=deps /app/node_modules /app/node_modules
USER 1000
EXPOSE 3000
HEALTHCHECK --interval=30s CMD ["node", "/app/dist/health.js"]
CMD ["node", "/app/dist/server.js"]
"#;

/// One input shape, generated at a given scale.
struct Shape {
    name: &'static str,
    /// What the scale counts.
    unit: &'static str,
    small: usize,
    generate: fn(usize) -> String,
}

fn realistic(bytes: usize) -> String {
    let mut out = String::with_capacity(bytes + BLOCK.len() + 64);
    let mut block = 0;
    while out.len() < bytes {
        // Stage names are unique, as in a real file (BuildKit rejects duplicates).
        out.push_str(
            &BLOCK
                .replace(" AS deps", &format!(" AS deps{block}"))
                .replace(" AS build", &format!(" AS build{block}"))
                .replace(" AS runtime", &format!(" AS runtime{block}"))
                .replace("--from=deps", &format!("--from=deps{block}"))
                .replace("--from=build", &format!("--from=build{block}")),
        );
        block += 1;
    }
    out
}

/// The stage-free part of [`BLOCK`], repeated in one stage to reach a byte size.
fn realistic_one_stage(bytes: usize) -> String {
    let body: String = BLOCK
        .lines()
        .filter(|line| !line.starts_with("FROM ") && !line.contains("--from="))
        .flat_map(|line| [line, "\n"])
        .collect();
    let mut out = String::with_capacity(bytes + body.len() + 64);
    out.push_str("FROM node:22-alpine\n");
    while out.len() < bytes {
        out.push_str(&body);
    }
    out
}

fn continuation_lines(lines: usize) -> String {
    let mut out = String::from("FROM alpine:3.20\nRUN set -eux \\\n");
    for i in 0..lines {
        let _ = writeln!(out, "    && echo line-{i} >> /tmp/out \\");
    }
    out.push_str("    && true\n");
    out
}

fn instructions(count: usize) -> String {
    let mut out = String::from("FROM alpine:3.20 AS base\n");
    for i in 0..count {
        let _ = match i % 5 {
            0 => writeln!(out, "RUN echo {i}"),
            1 => writeln!(out, "USER user{i}"),
            2 => writeln!(out, "COPY src/{i} /app/{i}"),
            3 => writeln!(out, "LABEL key{i}=\"value {i}\""),
            _ => writeln!(out, "WORKDIR /app/{i}"),
        };
    }
    out
}

/// ENV instructions, each setting a new variable.
fn env_instructions(count: usize) -> String {
    let mut out = String::from("FROM alpine:3.20 AS base\n");
    for i in 0..count {
        let _ = writeln!(out, "ENV VAR_{i}=value-{i}");
    }
    out
}

fn heredoc_lines(lines: usize) -> String {
    let mut out = String::from("FROM alpine:3.20\nRUN <<EOF\n");
    for i in 0..lines {
        let _ = writeln!(out, "echo heredoc line {i} >> /tmp/out");
    }
    out.push_str("EOF\n");
    out
}

fn stages(count: usize) -> String {
    let mut out = String::from("FROM alpine:3.20 AS s0\nRUN echo 0\n");
    for i in 1..count {
        let _ = writeln!(out, "FROM s{} AS s{i}", i - 1);
        let _ = writeln!(out, "COPY --from=s{} /a /a", i - 1);
    }
    out
}

fn comments(count: usize) -> String {
    let mut out = String::from("FROM alpine:3.20\n");
    for i in 0..count {
        let _ = writeln!(out, "# comment {i}: why the next step is here");
        let _ = writeln!(out, "RUN echo {i}");
    }
    out
}

const SHAPES: &[Shape] = &[
    Shape {
        name: "realistic multi-stage file",
        unit: "bytes",
        small: 1_000_000,
        generate: realistic,
    },
    Shape {
        name: "realistic single-stage file",
        unit: "bytes",
        small: 1_000_000,
        generate: realistic_one_stage,
    },
    Shape {
        name: "one RUN, continuation lines",
        unit: "lines",
        small: 10_000,
        generate: continuation_lines,
    },
    Shape {
        name: "instructions (RUN/USER/COPY/LABEL/WORKDIR)",
        unit: "instructions",
        small: 10_000,
        generate: instructions,
    },
    // Fewer: each instruction's state snapshot holds every variable set so far,
    // so 100,000 ENV lines would need ~10^9 map entries (tens of GB).
    Shape {
        name: "ENV instructions, each a new variable",
        unit: "instructions",
        small: 500,
        generate: env_instructions,
    },
    Shape {
        name: "heredoc body lines",
        unit: "lines",
        small: 10_000,
        generate: heredoc_lines,
    },
    Shape {
        name: "stages, each copying from the last",
        unit: "stages",
        small: 1_000,
        generate: stages,
    },
    Shape {
        name: "comment + instruction pairs",
        unit: "pairs",
        small: 10_000,
        generate: comments,
    },
];

/// The fastest of `runs` runs of `f`: the one least disturbed by other processes.
fn fastest(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(3);
    let only = std::env::args().nth(2);
    // `scale RUNS SHAPE FACTOR` multiplies both sizes, to check a ratio holds further out.
    let factor: usize = std::env::args()
        .nth(3)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(1);
    let settings = LintSettings::default();
    println!("fastest of {runs} runs; ratio = time(10x input) / time(input)\n");
    println!(
        "| input | small | big | parse small | parse big | parse ratio | parse+lint small | parse+lint big | parse+lint ratio | findings (big) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for shape in SHAPES {
        if only
            .as_deref()
            .is_some_and(|only| !shape.name.contains(only))
        {
            continue;
        }
        let small_scale = shape.small * factor;
        let small = (shape.generate)(small_scale);
        let big = (shape.generate)(small_scale * 10);
        for source in [&small, &big] {
            let parsed = layercake_syntax::parse(source);
            assert!(
                parsed.errors.is_empty(),
                "{}: generated input does not parse: {:?}",
                shape.name,
                parsed.errors.first()
            );
            assert!(source.lines().all(|line| line.len() < 65_536));
        }
        let parse_small = fastest(runs, || {
            black_box(layercake_syntax::parse(black_box(&small)));
        });
        let parse_big = fastest(runs, || {
            black_box(layercake_syntax::parse(black_box(&big)));
        });
        let lint_small = fastest(runs, || {
            black_box(lint_source("Dockerfile", black_box(&small), &settings));
        });
        let lint_big = fastest(runs, || {
            black_box(lint_source("Dockerfile", black_box(&big), &settings));
        });
        let findings = lint_source("Dockerfile", &big, &settings).findings.len();
        println!(
            "| {} | {} {unit} ({}) | {} {unit} ({}) | {} | {} | {:.1}x | {} | {} | {:.1}x | {findings} |",
            shape.name,
            small_scale,
            megabytes(small.len()),
            small_scale * 10,
            megabytes(big.len()),
            millis(parse_small),
            millis(parse_big),
            parse_big.as_secs_f64() / parse_small.as_secs_f64(),
            millis(lint_small),
            millis(lint_big),
            lint_big.as_secs_f64() / lint_small.as_secs_f64(),
            unit = shape.unit,
        );
    }
}

fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
}

fn megabytes(bytes: usize) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}
