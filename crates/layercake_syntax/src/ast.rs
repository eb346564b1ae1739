//! The syntax tree: what BuildKit's parser sees in a Dockerfile, with ranges.

use crate::mount::Mount;
use crate::text::TextRange;
use serde::Serialize;

/// A parsed Dockerfile. Parsing never fails: what BuildKit rejects is in `errors`,
/// and everything that could still be read is kept.
#[derive(Clone, Debug, Serialize)]
pub struct Dockerfile {
    /// Parser directives at the top (`# syntax=`, `# escape=`, `# check=`).
    pub directives: Vec<Directive>,
    /// Instructions in file order.
    pub instructions: Vec<Instruction>,
    /// Every comment line (the range covers `#` to the end of the line).
    pub comments: Vec<Comment>,
    /// The escape character in force (`\` or a backtick).
    pub escape: char,
    /// What BuildKit's parser rejects; empty when BuildKit accepts the file.
    pub errors: Vec<ParseError>,
    /// What BuildKit accepts with a warning (empty continuation lines).
    pub warnings: Vec<ParseWarning>,
}

impl Dockerfile {
    /// Whether BuildKit's parser accepts the file.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// A parser directive such as `# escape=\``.
#[derive(Clone, Debug, Serialize)]
pub struct Directive {
    /// Lower-cased name: `syntax`, `escape` or `check`.
    pub name: String,
    /// The value, trimmed.
    pub value: String,
    /// The whole directive line.
    pub range: TextRange,
}

/// A comment line.
#[derive(Clone, Debug, Serialize)]
pub struct Comment {
    /// The text after `#`, trimmed.
    pub text: String,
    /// From `#` to the end of the line.
    pub range: TextRange,
}

/// Something BuildKit's parser rejects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ParseError {
    /// BuildKit's message, e.g. `unterminated heredoc`.
    pub message: String,
    /// Where: the instruction (or line) at fault.
    pub range: TextRange,
}

/// Something BuildKit's parser accepts but warns about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ParseWarning {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub range: TextRange,
}

/// A piece of text from the file: its value as BuildKit's parser sees it, and its range.
///
/// `text` is after joining continuation lines; quotes and variables are kept as
/// written (they are expanded later, by the model).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Word {
    /// The text.
    pub text: String,
    /// Where it stands in the source.
    pub range: TextRange,
}

/// The instruction word, recognised case-insensitively.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
#[allow(missing_docs)]
pub enum Keyword {
    Add,
    Arg,
    Cmd,
    Copy,
    Entrypoint,
    Env,
    Expose,
    From,
    Healthcheck,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    Stopsignal,
    User,
    Volume,
    Workdir,
    /// A word BuildKit's parser does not know (it still parses; building fails).
    Unknown,
}

impl Keyword {
    /// Recognises an instruction word, case-insensitively.
    pub fn from_word(word: &str) -> Keyword {
        match word.to_ascii_lowercase().as_str() {
            "add" => Keyword::Add,
            "arg" => Keyword::Arg,
            "cmd" => Keyword::Cmd,
            "copy" => Keyword::Copy,
            "entrypoint" => Keyword::Entrypoint,
            "env" => Keyword::Env,
            "expose" => Keyword::Expose,
            "from" => Keyword::From,
            "healthcheck" => Keyword::Healthcheck,
            "label" => Keyword::Label,
            "maintainer" => Keyword::Maintainer,
            "onbuild" => Keyword::Onbuild,
            "run" => Keyword::Run,
            "shell" => Keyword::Shell,
            "stopsignal" => Keyword::Stopsignal,
            "user" => Keyword::User,
            "volume" => Keyword::Volume,
            "workdir" => Keyword::Workdir,
            _ => Keyword::Unknown,
        }
    }

    /// The canonical upper-case spelling (`UNKNOWN` for unknown words).
    pub fn as_str(self) -> &'static str {
        match self {
            Keyword::Add => "ADD",
            Keyword::Arg => "ARG",
            Keyword::Cmd => "CMD",
            Keyword::Copy => "COPY",
            Keyword::Entrypoint => "ENTRYPOINT",
            Keyword::Env => "ENV",
            Keyword::Expose => "EXPOSE",
            Keyword::From => "FROM",
            Keyword::Healthcheck => "HEALTHCHECK",
            Keyword::Label => "LABEL",
            Keyword::Maintainer => "MAINTAINER",
            Keyword::Onbuild => "ONBUILD",
            Keyword::Run => "RUN",
            Keyword::Shell => "SHELL",
            Keyword::Stopsignal => "STOPSIGNAL",
            Keyword::User => "USER",
            Keyword::Volume => "VOLUME",
            Keyword::Workdir => "WORKDIR",
            Keyword::Unknown => "UNKNOWN",
        }
    }
}

/// One instruction, from its keyword to the end of its last line (continuations
/// and heredoc bodies included).
#[derive(Clone, Debug, Serialize)]
pub struct Instruction {
    /// What the keyword means.
    pub keyword: Keyword,
    /// The keyword as written (case preserved).
    pub keyword_word: Word,
    /// The whole instruction: keyword to the end of the last line, without the final line break.
    pub range: TextRange,
    /// `--name[=value]` options before the arguments.
    pub flags: Vec<Flag>,
    /// The arguments, shaped by the keyword.
    pub args: Args,
    /// Heredocs attached to the instruction, in order.
    pub heredocs: Vec<Heredoc>,
    /// The arguments as one text: everything after the flags, continuation lines joined.
    pub args_text: Word,
}

impl Instruction {
    /// The first flag named `name` (without the leading `--`).
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.name == name)
    }

    /// The typed `--mount` options of a RUN.
    pub fn mounts(&self) -> impl Iterator<Item = Mount> + '_ {
        self.flags
            .iter()
            .filter(|f| f.name == "mount")
            .map(|f| Mount::parse(f.value.as_deref().unwrap_or(""), f.range))
    }

    /// For ONBUILD, the instruction it carries.
    pub fn onbuild_trigger(&self) -> Option<&Instruction> {
        match &self.args {
            Args::Onbuild(inner) => Some(inner),
            _ => None,
        }
    }
}

/// An option such as `--from=build`, `--link` or `--mount=type=cache,target=/x`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// The name without `--`, e.g. `from`.
    pub name: String,
    /// The value after `=`, quotes removed as BuildKit does; `None` for a bare flag.
    pub value: Option<String>,
    /// The whole `--name=value` word.
    pub range: TextRange,
}

/// A here-document: `<<EOF` … `EOF`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Heredoc {
    /// The delimiter word, quotes removed.
    pub name: String,
    /// The file descriptor before `<<` (`3<<EOF`), 0 when none.
    pub file_descriptor: u32,
    /// Whether variables in the body are expanded (the delimiter was not quoted).
    pub expand: bool,
    /// `<<-`: leading tabs are stripped from the body and the terminator.
    pub chomp: bool,
    /// The body, lines joined with their line endings, terminator excluded.
    pub content: String,
    /// The `<<EOF` word in the instruction line.
    pub marker_range: TextRange,
    /// The body lines (empty range at the body start if there are none).
    pub body_range: TextRange,
    /// The terminator line; empty at the end of the file when unterminated.
    pub terminator_range: TextRange,
}

/// RUN / CMD / ENTRYPOINT / SHELL / HEALTHCHECK CMD command: exec (JSON) or shell form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "form", rename_all = "lowercase")]
pub enum Command {
    /// `["executable", "arg"]`: run directly, no shell.
    Exec {
        /// The array elements.
        args: Vec<Word>,
    },
    /// `command text`: run through the SHELL.
    Shell {
        /// The command text (for a RUN with heredocs, the first line only).
        text: Word,
    },
}

/// `KEY=value` (or the legacy `KEY value`) in ENV or LABEL, and `NAME[=default]` in ARG.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyValue {
    /// The name.
    pub key: Word,
    /// The value as written (quotes kept); `None` for an ARG without a default.
    pub value: Option<Word>,
    /// Whether the legacy space-separated form was used (`ENV k v`).
    pub legacy: bool,
    /// The whole pair.
    pub range: TextRange,
}

/// The arguments of an instruction, shaped by its keyword.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum Args {
    /// Nothing after the keyword and flags.
    Empty,
    /// FROM: `image [AS name]` plus anything else as written.
    From {
        /// The image reference (or stage name), unexpanded.
        image: Word,
        /// The stage name after `AS`.
        alias: Option<Word>,
        /// Every whitespace-separated word, as BuildKit lists them.
        words: Vec<Word>,
    },
    /// RUN, CMD, ENTRYPOINT, SHELL.
    Command(Command),
    /// COPY and ADD: sources and destination (JSON or whitespace form).
    Files {
        /// Source paths (the last word is the destination, not a source).
        sources: Vec<Word>,
        /// The destination; `None` when only one word was given.
        dest: Option<Word>,
        /// Whether the JSON array form was used.
        json: bool,
    },
    /// ENV, LABEL, ARG.
    KeyValues(Vec<KeyValue>),
    /// EXPOSE and VOLUME: a list of words (VOLUME may be JSON).
    Words {
        /// The words.
        words: Vec<Word>,
        /// Whether the JSON array form was used.
        json: bool,
    },
    /// USER, WORKDIR, MAINTAINER, STOPSIGNAL: one string.
    Text(Word),
    /// HEALTHCHECK NONE, or HEALTHCHECK [options] CMD command.
    Healthcheck {
        /// `NONE` or `CMD` as written.
        kind: Word,
        /// The command after CMD.
        command: Option<Command>,
    },
    /// ONBUILD and the instruction it registers.
    Onbuild(Box<Instruction>),
    /// An unknown instruction: its arguments as one text.
    Unknown(Word),
}
