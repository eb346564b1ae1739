//! The model of small Dockerfiles, parsed by the real parser.

use std::collections::BTreeMap;

use layercake_model::{DockerfileModel, EdgeKind, ModelOptions, StageBase, StageRef};

fn model_with(source: &str, options: &ModelOptions) -> DockerfileModel {
    let dockerfile = layercake_syntax::parse(source);
    DockerfileModel::new(&dockerfile, source, options)
}

fn model(source: &str) -> DockerfileModel {
    model_with(source, &ModelOptions::default())
}

fn reference(model: &DockerfileModel, stage: usize) -> String {
    match &model.stages[stage].base {
        StageBase::Image { reference, .. } => reference.clone(),
        StageBase::Stage { index } => format!("stage {index}"),
    }
}

/// The targets of the edges of one kind held by a stage.
fn targets(model: &DockerfileModel, stage: usize, kind: EdgeKind) -> Vec<StageRef> {
    model
        .edges_from(stage)
        .filter(|e| e.kind == kind)
        .map(|e| e.target.clone())
        .collect()
}

#[test]
fn stages_have_names_bases_and_instruction_ranges() {
    let m = model(
        "FROM node:22 AS Build\nRUN npm ci\nFROM build AS test\nRUN npm test\nFROM scratch\nCOPY --from=build /app /app\n",
    );
    assert_eq!(m.stages.len(), 3);
    let build = &m.stages[0];
    let name = build.name.as_ref().expect("named");
    assert_eq!(
        (name.normalized.as_str(), name.written.text.as_str()),
        ("build", "Build")
    );
    assert_eq!(build.instructions, 0..2);
    let image = build.base.image().expect("an image base");
    assert_eq!(
        (image.repository.as_str(), image.tag.as_deref()),
        ("node", Some("22"))
    );
    assert_eq!(m.stages[1].base, StageBase::Stage { index: 0 });
    assert_eq!(m.stages[1].instructions, 2..4);
    assert!(m.stages[2].base.is_scratch());
    assert!(m.stages[2].name.is_none());
    assert_eq!(m.stage_of_instruction(3), Some(1));
    assert!(m.stage_by_name("BUILD").is_some());
}

#[test]
fn from_expands_global_args_with_defaults_and_build_args() {
    let source = "ARG VERSION=22\nARG VARIANT\nARG REGISTRY\n\
                  FROM node:${VERSION}${VARIANT:+-$VARIANT}\n\
                  FROM ${REGISTRY:-docker.io}/library/python:${PY:-3.12}-slim\n\
                  FROM golang:$MISSING\n";
    let m = model(source);
    assert_eq!(reference(&m, 0), "node:22");
    assert_eq!(reference(&m, 1), "docker.io/library/python:3.12-slim");
    let image = m.stages[1].base.image().expect("parses");
    assert_eq!(image.registry.as_deref(), Some("docker.io"));
    assert_eq!(image.repository, "library/python");
    assert_eq!(image.name(), "python");
    match &m.stages[2].base {
        StageBase::Image {
            reference,
            unresolved,
            raw,
            ..
        } => {
            assert_eq!(reference, "golang:");
            assert_eq!(unresolved, &vec!["MISSING".to_string()]);
            assert_eq!(raw.text, "golang:$MISSING");
        }
        other => panic!("expected an image base, got {other:?}"),
    }

    let options = ModelOptions {
        build_args: BTreeMap::from([("VARIANT".to_string(), "alpine".to_string())]),
        ..ModelOptions::default()
    };
    let m = model_with(source, &options);
    assert_eq!(reference(&m, 0), "node:22-alpine");
    assert_eq!(
        m.global_args.get("VARIANT"),
        Some(&Some("alpine".to_string()))
    );
    assert_eq!(m.global_args.get("REGISTRY"), Some(&None));
}

#[test]
fn from_platform_is_kept_and_expanded() {
    let m = model("FROM --platform=$BUILDPLATFORM golang:1.23 AS build\n");
    let platform = m.stages[0].platform.as_ref().expect("a platform");
    assert_eq!(platform.written, "$BUILDPLATFORM");
    assert_eq!(platform.value, "linux/amd64");
    assert!(platform.unresolved.is_empty());
}

#[test]
fn global_args_are_visible_in_a_stage_only_when_redeclared() {
    let m =
        model("ARG VERSION=1.2\nFROM alpine\nRUN echo $VERSION\nARG VERSION\nRUN echo $VERSION\n");
    let before = m.expand_at(2, "v$VERSION").expect("expands");
    assert_eq!(before.value, "v");
    assert_eq!(before.unmatched, vec!["VERSION".to_string()]);
    assert!(!m.instructions[2].args.contains_key("VERSION"));
    let after = m.expand_at(4, "v$VERSION").expect("expands");
    assert_eq!(after.value, "v1.2");
    assert!(after.unmatched.is_empty());
}

#[test]
fn stage_args_take_defaults_build_args_and_stay_declared_when_unset() {
    let source = "FROM alpine\nARG A=one B=${A}-two\nARG C\nRUN echo $A $B $C $D\n";
    let m = model(source);
    let state = &m.instructions[3];
    assert_eq!(state.args.get("A"), Some(&Some("one".to_string())));
    assert_eq!(state.args.get("B"), Some(&Some("one-two".to_string())));
    assert_eq!(state.args.get("C"), Some(&None));
    // C is declared (no value), so only D is undefined.
    let expanded = m.expand_at(3, "$A $B $C $D").expect("expands");
    assert_eq!(expanded.value, "one one-two  ");
    assert_eq!(expanded.unmatched, vec!["D".to_string()]);

    let options = ModelOptions {
        build_args: BTreeMap::from([("A".to_string(), "given".to_string())]),
        ..ModelOptions::default()
    };
    let m = model_with(source, &options);
    assert_eq!(
        m.instructions[3].args.get("B"),
        Some(&Some("given-two".to_string()))
    );
}

#[test]
fn env_is_expanded_and_wins_over_arg() {
    let m = model(
        "FROM alpine\nARG V=arg\nENV V=env\nENV abc=hello\nENV abc=bye def=$abc\nENV ghi=$abc\nRUN echo $V\n",
    );
    let state = &m.instructions[6];
    assert_eq!(state.env.get("def").map(String::as_str), Some("hello"));
    assert_eq!(state.env.get("ghi").map(String::as_str), Some("bye"));
    assert_eq!(m.expand_at(6, "$V").expect("expands").value, "env");
}

#[test]
/// BuildKit's `dispatchState.init` (dockerfile2llb/convert.go) carries the
/// parent stage's build args too.
fn from_stage_inherits_user_workdir_env_shell_and_args() {
    let m = model(
        "FROM alpine AS base\nARG X=1\nENV PATH=/opt/bin\nUSER app\nWORKDIR /srv\nSHELL [\"/bin/bash\", \"-c\"]\n\
         FROM base AS child\nWORKDIR data\nRUN true\nFROM alpine\nRUN true\n",
    );
    let child = &m.instructions[8];
    assert_eq!(child.stage, Some(1));
    assert_eq!(child.user.as_deref(), Some("app"));
    assert_eq!(child.workdir, "/srv/data");
    assert_eq!(child.env.get("PATH").map(String::as_str), Some("/opt/bin"));
    assert_eq!(child.shell, vec!["/bin/bash".to_string(), "-c".to_string()]);
    assert_eq!(child.args.get("X"), Some(&Some("1".to_string())));
    assert_eq!(m.expand_at(8, "$X").expect("expands").value, "1");

    let fresh = &m.instructions[10];
    assert_eq!(fresh.user, None);
    assert_eq!(fresh.workdir, "/");
    assert_eq!(fresh.shell, vec!["/bin/sh".to_string(), "-c".to_string()]);
    assert!(fresh.env.is_empty());
}

#[test]
fn state_is_what_holds_before_the_instruction() {
    let m = model("FROM alpine\nUSER root\nUSER ${NAME:-nobody}\nRUN id\n");
    assert_eq!(m.instructions[1].user, None);
    assert_eq!(m.instructions[2].user.as_deref(), Some("root"));
    assert_eq!(m.instructions[3].user.as_deref(), Some("nobody"));
    assert_eq!(m.stages[0].final_state.user.as_deref(), Some("nobody"));
}

#[test]
fn relative_workdirs_resolve_against_earlier_ones() {
    let m =
        model("FROM alpine\nARG SUB=src\nWORKDIR app\nWORKDIR ./$SUB/\nWORKDIR ../lib\nRUN pwd\n");
    assert_eq!(m.instructions[3].workdir, "/app");
    assert_eq!(m.instructions[4].workdir, "/app/src");
    assert_eq!(m.instructions[5].workdir, "/app/lib");
}

#[test]
fn copy_from_resolves_names_and_indexes() {
    let m = model(
        "FROM golang AS build\nRUN go build\nFROM alpine AS certs\n\
         FROM scratch\nCOPY --from=BUILD /out /app\nCOPY --from=1 /etc/ssl /etc/ssl\n",
    );
    assert_eq!(
        targets(&m, 2, EdgeKind::CopyFrom),
        vec![StageRef::Stage(0), StageRef::Stage(1)]
    );
    let edge = m
        .edges_from(2)
        .find(|e| e.kind == EdgeKind::CopyFrom)
        .expect("an edge");
    assert_eq!(edge.instruction, 4);
    assert_eq!(edge.name.written, "BUILD");
    assert_eq!(m.edges_to(0).count(), 1);
}

/// BuildKit rejects `--from` with variables ("variable expansion is not
/// supported for --from", dockerfile2llb `toCommand`).
#[test]
fn copy_from_a_variable_is_invalid() {
    let m = model("FROM alpine AS a\nFROM alpine\nARG SRC=a\nCOPY --from=$SRC /x /x\n");
    assert_eq!(targets(&m, 1, EdgeKind::CopyFrom), vec![StageRef::Invalid]);
}

#[test]
fn run_mount_from_is_an_edge() {
    let m = model(
        "FROM node:22 AS deps\nRUN npm ci\n\
         FROM node:22\nRUN --mount=type=cache,target=/root/.npm --mount=from=deps,source=/app/node_modules,target=/m \\\n    --mount=type=cache,from=deps,target=/c true\n",
    );
    let edges: Vec<_> = m
        .edges_from(1)
        .filter(|e| e.kind == EdgeKind::MountFrom)
        .collect();
    assert_eq!(edges.len(), 2);
    assert!(
        edges
            .iter()
            .all(|e| e.target == StageRef::Stage(0) && e.instruction == 3)
    );
    assert!(m.reaches_target(0));
}

#[test]
fn later_stages_images_and_invalid_references() {
    let m = model(
        "FROM alpine AS first\nCOPY --from=second /x /x\nCOPY --from=first /y /y\nCOPY --from=1 /z /z\n\
         COPY --from=nginx:latest /etc/nginx /etc/nginx\nCOPY --from=buidler /a /a\n\
         COPY --from=7 /b /b\nCOPY --from=$NOPE /c /c\nFROM alpine AS second\n",
    );
    assert_eq!(
        targets(&m, 0, EdgeKind::CopyFrom),
        vec![
            StageRef::LaterStage(1),
            StageRef::LaterStage(0),
            StageRef::LaterStage(1),
            StageRef::Image("nginx:latest".to_string()),
            StageRef::Image("buidler".to_string()),
            StageRef::Invalid,
            StageRef::Invalid,
        ]
    );
    let nope = m.edges_from(0).last().expect("edges");
    assert_eq!(nope.name.unresolved, vec!["NOPE".to_string()]);
}

#[test]
fn from_a_later_or_same_name_is_an_image() {
    let m = model("FROM app AS app\nFROM alpine AS app2\n");
    assert_eq!(reference(&m, 0), "app");
    assert!(matches!(m.stages[0].base, StageBase::Image { .. }));
}

#[test]
fn target_defaults_to_the_last_stage_and_reachability_follows_edges() {
    let source = "FROM golang AS build\nFROM alpine AS lint\nRUN lint\nFROM build AS test\n\
                  FROM alpine AS runtime\nCOPY --from=build /out /app\n";
    let m = model(source);
    assert_eq!(m.target, Some(3));
    assert_eq!(
        m.target_stage()
            .and_then(|s| s.name.as_ref())
            .map(|n| n.normalized.as_str()),
        Some("runtime")
    );
    let reaching: Vec<bool> = (0..4).map(|i| m.reaches_target(i)).collect();
    assert_eq!(reaching, vec![true, false, false, true]);
    assert!(!m.reaches_target(99));

    let options = ModelOptions {
        target: Some("TEST".to_string()),
        ..ModelOptions::default()
    };
    let m = model_with(source, &options);
    assert_eq!(m.target, Some(2));
    assert_eq!(m.target_error, None);
    let reaching: Vec<bool> = (0..4).map(|i| m.reaches_target(i)).collect();
    assert_eq!(reaching, vec![true, false, true, false]);
}

#[test]
fn an_unknown_target_is_reported_not_fatal() {
    let options = ModelOptions {
        target: Some("prod".to_string()),
        ..ModelOptions::default()
    };
    let m = model_with("FROM alpine AS build\nFROM alpine AS runtime\n", &options);
    assert!(
        m.target_error
            .as_deref()
            .is_some_and(|e| e.contains("prod"))
    );
    assert_eq!(m.target, Some(1));
}

#[test]
fn a_file_without_from_has_no_stages() {
    let m = model("ARG X=1\nRUN echo hi\nUSER app\n");
    assert!(m.stages.is_empty());
    assert_eq!(m.target, None);
    assert_eq!(m.target_error, None);
    assert_eq!(m.instructions.len(), 3);
    assert_eq!(m.stage_of_instruction(1), None);
    assert_eq!(m.expand_at(1, "$X").expect("expands").value, "1");
    assert_eq!(m.expand_at(42, "$X").expect("expands").value, "");

    let options = ModelOptions {
        target: Some("x".to_string()),
        ..ModelOptions::default()
    };
    let m = model_with("", &options);
    assert!(m.stages.is_empty() && m.target_error.is_some());
}

#[test]
fn instructions_before_the_first_from_do_not_belong_to_a_stage() {
    let m = model("ARG BASE=alpine\nLABEL x=y\nFROM $BASE\nRUN true\n");
    assert_eq!(m.stage_of_instruction(1), None);
    assert_eq!(m.stage_of_instruction(3), Some(0));
    assert_eq!(reference(&m, 0), "alpine");
}

#[test]
fn onbuild_triggers_are_listed_not_applied() {
    let m = model("FROM alpine\nONBUILD USER app\nONBUILD COPY --from=x /a /a\nRUN id\n");
    assert_eq!(m.stages[0].onbuild_triggers, vec![1, 2]);
    assert_eq!(m.instructions[3].user, None);
    assert_eq!(targets(&m, 0, EdgeKind::CopyFrom), vec![]);
}

#[test]
fn expansion_errors_reach_the_caller() {
    let m = model("FROM alpine\nRUN true\n");
    assert!(m.expand_at(1, "${REQUIRED?must be set}").is_err());
    let m = model("FROM ${IMAGE?need an image}\n");
    match &m.stages[0].base {
        StageBase::Image {
            expansion_error,
            image,
            ..
        } => {
            assert!(expansion_error.is_some());
            assert!(image.is_none());
        }
        other => panic!("expected an image base, got {other:?}"),
    }
}

#[test]
fn a_stage_from_an_image_starts_with_its_known_state() {
    let parent = model("FROM alpine\nARG V=1\nENV PIP_NO_CACHE_DIR=1\nUSER app\nWORKDIR /srv\n");
    let options = ModelOptions {
        image_state: Some(parent.stages[0].final_state.clone()),
        ..ModelOptions::default()
    };
    let child = model_with("FROM alpine\nRUN id\nFROM scratch AS other\n", &options);
    let state = &child.instructions[1];
    assert_eq!(state.user.as_deref(), Some("app"));
    assert_eq!(state.workdir, "/srv");
    assert_eq!(
        state.env.get("PIP_NO_CACHE_DIR").map(String::as_str),
        Some("1")
    );
    assert!(state.args.is_empty(), "an image carries no build arguments");
    assert_eq!(state.stage, Some(0));
    // Without it, nothing is known of the image.
    assert_eq!(model("FROM alpine\nRUN id\n").instructions[1].user, None);
}
