//! The shape every rule has: metadata with its documentation, and a check.

use crate::build_context::BuildContextInfo;
use crate::finding::{Category, Finding, Fix, Severity};
use crate::shell_command::SimpleCommand;
use layercake_model::DockerfileModel;
use layercake_syntax::{Dockerfile, Instruction, LineIndex, TextRange};
use std::borrow::Cow;

/// What a rule is: code, name, category, default severity and documentation.
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable code, never reused (`LC` + three digits).
    pub code: &'static str,
    /// kebab-case name of the bad pattern it reports.
    pub name: &'static str,
    /// The category.
    pub category: Category,
    /// Severity unless configuration overrides it.
    pub default_severity: Severity,
    /// One line for `layercake rules`.
    pub summary: &'static str,
    /// Markdown with the sections `## What it does`, `## Why is this bad?`,
    /// `## Example`, `## Use instead`, `## Fix safety` and `## Equivalents`.
    /// `layercake explain` and `docs/rules/` are generated from it.
    pub doc: &'static str,
}

/// What a rule can look at: the file, its syntax tree and its model.
pub struct LintContext<'a> {
    /// The path, for messages.
    pub path: &'a str,
    /// The file text.
    pub source: &'a str,
    /// The syntax tree.
    pub dockerfile: &'a Dockerfile,
    /// What the Dockerfile means: stages, graph, target, effective state.
    pub model: &'a DockerfileModel,
    /// Line starts of `source`, for messages that name another line.
    pub line_index: &'a LineIndex,
    /// What the CLI saw of the build context; `None` when linting text alone.
    pub build_context: Option<&'a BuildContextInfo>,
    /// The simple commands of each instruction (a RUN's, or a shell-form CMD's
    /// or ENTRYPOINT's; empty for the rest), split once per file.
    pub run_commands: &'a [Vec<SimpleCommand>],
}

impl LintContext<'_> {
    /// The simple commands of the instruction at `index`.
    pub fn run_commands_at(&self, index: usize) -> &[SimpleCommand] {
        self.run_commands.get(index).map_or(&[], Vec::as_slice)
    }

    /// The simple commands of `instruction`: the ones split once for the file
    /// when it is one of this file's instructions, else split now (an
    /// ONBUILD trigger, say).
    pub fn commands_of(&self, instruction: &Instruction) -> Cow<'_, [SimpleCommand]> {
        // The instructions are one slice, so an instruction of this file has
        // an index its address gives away; `ptr::eq` confirms it.
        let base = self.dockerfile.instructions.as_ptr() as usize;
        let address = instruction as *const Instruction as usize;
        let size = std::mem::size_of::<Instruction>();
        if size > 0 && address >= base && (address - base).is_multiple_of(size) {
            let index = (address - base) / size;
            if let (Some(own), Some(commands)) = (
                self.dockerfile.instructions.get(index),
                self.run_commands.get(index),
            ) && std::ptr::eq(own, instruction)
            {
                return Cow::Borrowed(commands.as_slice());
            }
        }
        Cow::Owned(crate::shell_command::run_commands(instruction))
    }

    /// The 1-based line of a byte offset, for messages.
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_index.line_of(offset)
    }
}

/// Collects a rule's findings; fills in code, name, category and severity.
pub struct FindingSink<'m> {
    meta: &'m RuleMeta,
    severity: Severity,
    findings: Vec<Finding>,
}

impl<'m> FindingSink<'m> {
    pub(crate) fn new(meta: &'m RuleMeta, severity: Severity) -> Self {
        FindingSink {
            meta,
            severity,
            findings: Vec::new(),
        }
    }

    /// Reports a finding at `range`.
    pub fn report(&mut self, range: TextRange, message: impl Into<String>, fix: Option<Fix>) {
        self.findings.push(Finding {
            code: self.meta.code,
            name: self.meta.name,
            category: self.meta.category,
            severity: self.severity,
            message: message.into(),
            range,
            fix,
        });
    }

    pub(crate) fn into_findings(self) -> Vec<Finding> {
        self.findings
    }
}

/// A check over one Dockerfile.
pub trait Rule: Sync {
    /// The rule's metadata and documentation.
    fn meta(&self) -> &'static RuleMeta;
    /// Reports what is wrong in `ctx`.
    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>);
    /// What the rule's findings are about. A review matches a finding
    /// between the base and head of a change by it: an instruction's finding
    /// through the instruction's pairing, an image's finding by its rule.
    fn subject(&self) -> FindingSubject {
        FindingSubject::Instruction
    }
    /// Whether the rule also checks ONBUILD triggers, each stage's triggers
    /// as the stage they run in (a FROM and the triggered instructions; see
    /// `onbuild.rs`). Say yes when the rule judges an instruction by itself
    /// and its stage's state, not by the stage graph, the layers below, what
    /// comes after in the child's Dockerfile, or the build context.
    fn applies_to_onbuild_triggers(&self) -> bool {
        false
    }
}

/// What a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindingSubject {
    /// The instruction it sits on (most rules).
    Instruction,
    /// The shipped image as a whole (it runs as root, it is built on a
    /// toolchain image): the instruction it sits on only shows where. A
    /// restructured Dockerfile that still ships such an image still has it.
    Image,
}
