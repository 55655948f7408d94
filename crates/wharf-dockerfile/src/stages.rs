//! Build stages: the instructions split at each FROM, the global ARGs declared before the
//! first FROM, references between stages, and the order in which a target's stages build.
//!
//! A stage depends on another through `FROM <stage>` (only earlier stages, by name, after
//! expanding global ARGs), `COPY --from=<stage>` (any stage, by name or index) and
//! `RUN --mount=from=<stage>` (any stage, by name). Anything else named there is an image.

use std::collections::BTreeMap;

use crate::error::{Error, ErrorKind};
use crate::instructions::{self, ArgDeclaration, FromInstruction, Instruction, Located};
use crate::parser::Dockerfile;
use crate::shell::ShellLexer;

/// The stages of a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildStages {
    /// The escape character, which variable expansion needs.
    pub escape: char,
    /// ARGs declared before the first FROM: usable in FROM lines, and in a stage that
    /// declares them again.
    pub global_args: Vec<Located<ArgDeclaration>>,
    pub stages: Vec<Stage>,
}

/// One build stage: its FROM and the instructions up to the next FROM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// The position among the stages, as `COPY --from=0` counts.
    pub index: usize,
    pub from: Located<FromInstruction>,
    pub instructions: Vec<Located<Instruction>>,
}

impl Stage {
    /// The `AS` name, lowercased.
    pub fn name(&self) -> Option<&str> {
        self.from.value.stage_name.as_deref()
    }

    /// The name, or the index when the stage has no name, for messages.
    fn label(&self) -> String {
        self.name()
            .map_or_else(|| self.index.to_string(), str::to_owned)
    }
}

/// What the caller knows about build arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildArgs {
    /// `--build-arg NAME=VALUE`: these replace the defaults of declared ARGs.
    pub values: BTreeMap<String, String>,
    /// Arguments that exist without a declaration in the global scope, such as
    /// `BUILDPLATFORM` and `TARGETPLATFORM`.
    pub automatic: BTreeMap<String, String>,
}

/// What a stage starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageBase {
    /// An earlier stage, by index.
    Stage(usize),
    /// An image reference, build arguments expanded.
    Image(String),
    /// `FROM scratch`: an empty filesystem.
    Scratch,
}

/// A dependency of a stage on another, and the line that makes it.
#[derive(Debug, Clone, Copy)]
struct Dependency {
    stage: usize,
    line: usize,
}

impl BuildStages {
    /// Splits a parsed Dockerfile into stages, checking every instruction.
    pub fn from_dockerfile(dockerfile: &Dockerfile) -> Result<Self, Error> {
        let mut global_args = Vec::new();
        let mut stages: Vec<Stage> = Vec::new();
        for located in instructions::parse_instructions(dockerfile)? {
            let Located { value, lines } = located;
            match (value, stages.last_mut()) {
                (Instruction::From(from), _) => stages.push(Stage {
                    index: stages.len(),
                    from: Located { value: from, lines },
                    instructions: Vec::new(),
                }),
                (instruction, Some(stage)) => stage.instructions.push(Located {
                    value: instruction,
                    lines,
                }),
                (Instruction::Arg(declarations), None) => global_args.extend(
                    declarations
                        .into_iter()
                        .map(|value| Located { value, lines }),
                ),
                (instruction, None) => {
                    return Err(Error::at(
                        lines.start,
                        ErrorKind::BeforeFirstFrom {
                            instruction: instruction.name(),
                        },
                    ))
                }
            }
        }
        if stages.is_empty() {
            return Err(Error::NoStages);
        }
        Ok(Self {
            escape: dockerfile.directives.escape_char(),
            global_args,
            stages,
        })
    }

    /// The last stage with this name (names are case-insensitive).
    pub fn stage_named(&self, name: &str) -> Option<&Stage> {
        let name = name.to_lowercase();
        self.stages
            .iter()
            .rev()
            .find(|stage| stage.name() == Some(name.as_str()))
    }

    /// The index of the stage to build: the named one, or the last stage.
    pub fn target(&self, name: Option<&str>) -> Result<usize, Error> {
        let Some(name) = name else {
            return Ok(self.stages.len() - 1);
        };
        self.stage_named(name)
            .map(|stage| stage.index)
            .ok_or_else(|| Error::UnknownTarget {
                target: name.to_owned(),
                known: self
                    .stages
                    .iter()
                    .filter_map(|stage| stage.name().map(str::to_owned))
                    .collect(),
            })
    }

    /// The variables FROM lines can use: the automatic arguments, then each global ARG with
    /// its build-argument value or its expanded default.
    pub fn global_scope(&self, args: &BuildArgs) -> Result<BTreeMap<String, String>, Error> {
        let lexer = ShellLexer::new(self.escape);
        let mut scope = args.automatic.clone();
        for Located { value: arg, lines } in &self.global_args {
            let value = match (args.values.get(&arg.name), &arg.default) {
                (Some(given), _) => Some(given.clone()),
                (None, Some(default)) => Some(
                    lexer
                        .process_word(default, &scope)
                        .map_err(|error| Error::at(lines.start, error.into()))?,
                ),
                (None, None) => None,
            };
            if let Some(value) = value {
                scope.insert(arg.name.clone(), value);
            }
        }
        Ok(scope)
    }

    /// What stage `index` starts from, with FROM's build arguments expanded from `scope`
    /// (see [`Self::global_scope`]). Only earlier stages can be a base. `index` must be a
    /// position in [`Self::stages`].
    pub fn base(&self, index: usize, scope: &BTreeMap<String, String>) -> Result<StageBase, Error> {
        let from = &self.stages[index].from;
        let image = ShellLexer::new(self.escape)
            .process_word(&from.value.image, scope)
            .map_err(|error| Error::at(from.lines.start, error.into()))?;
        if image.is_empty() {
            return Err(Error::at(
                from.lines.start,
                ErrorKind::BlankBaseName {
                    written: from.value.image.clone(),
                },
            ));
        }
        if image == "scratch" {
            return Ok(StageBase::Scratch);
        }
        Ok(self.stages[..index]
            .iter()
            .rev()
            .find(|stage| stage.name() == Some(image.as_str()))
            .map_or(StageBase::Image(image), |stage| {
                StageBase::Stage(stage.index)
            }))
    }

    /// The stages needed to build `target` (the last stage when `None`), each after the
    /// stages it depends on, ending with the target itself.
    pub fn build_order(&self, target: Option<&str>, args: &BuildArgs) -> Result<Vec<usize>, Error> {
        let target = self.target(target)?;
        let scope = self.global_scope(args)?;
        let mut marks = vec![Mark::Unvisited; self.stages.len()];
        let mut order = Vec::new();
        self.visit(target, &scope, &mut marks, &mut order)?;
        Ok(order)
    }

    fn visit(
        &self,
        index: usize,
        scope: &BTreeMap<String, String>,
        marks: &mut [Mark],
        order: &mut Vec<usize>,
    ) -> Result<(), Error> {
        marks[index] = Mark::InProgress;
        for dependency in self.dependencies(index, scope)? {
            match marks[dependency.stage] {
                Mark::Done => {}
                Mark::InProgress => {
                    return Err(Error::at(
                        dependency.line,
                        ErrorKind::CircularDependency {
                            stage: self.stages[dependency.stage].label(),
                        },
                    ))
                }
                Mark::Unvisited => self.visit(dependency.stage, scope, marks, order)?,
            }
        }
        marks[index] = Mark::Done;
        order.push(index);
        Ok(())
    }

    /// The stages that stage `index` uses directly, in the order it names them.
    fn dependencies(
        &self,
        index: usize,
        scope: &BTreeMap<String, String>,
    ) -> Result<Vec<Dependency>, Error> {
        let stage = &self.stages[index];
        let mut dependencies = Vec::new();
        if let StageBase::Stage(base) = self.base(index, scope)? {
            dependencies.push(Dependency {
                stage: base,
                line: stage.from.lines.start,
            });
        }
        for Located { value, lines } in &stage.instructions {
            let line = lines.start;
            match value {
                Instruction::Copy(copy) => {
                    if let Some(from) = &copy.from {
                        if let Some(source) = self.copy_source(from, line)? {
                            dependencies.push(Dependency {
                                stage: source,
                                line,
                            });
                        }
                    }
                }
                Instruction::Run(run) => {
                    let named = run
                        .mounts
                        .iter()
                        .filter_map(|mount| mount.from.as_deref())
                        .filter_map(|from| self.stage_named(from));
                    dependencies.extend(named.map(|source| Dependency {
                        stage: source.index,
                        line,
                    }));
                }
                _ => {}
            }
        }
        Ok(dependencies)
    }

    /// The stage that `COPY --from=reference` names: a number is an index, anything else a
    /// name; `None` when it names an image.
    fn copy_source(&self, reference: &str, line: usize) -> Result<Option<usize>, Error> {
        if let Ok(number) = reference.parse::<i64>() {
            return usize::try_from(number)
                .ok()
                .filter(|&index| index < self.stages.len())
                .map(Some)
                .ok_or_else(|| {
                    Error::at(
                        line,
                        ErrorKind::InvalidStageIndex {
                            index: reference.to_owned(),
                        },
                    )
                });
        }
        Ok(self.stage_named(reference).map(|stage| stage.index))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Unvisited,
    InProgress,
    Done,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse;

    fn stages(source: &str) -> BuildStages {
        BuildStages::from_dockerfile(&parse(source).unwrap()).unwrap()
    }

    fn order(source: &str, target: Option<&str>) -> Result<Vec<usize>, Error> {
        stages(source).build_order(target, &BuildArgs::default())
    }

    const MULTI_STAGE: &str = "\
ARG BASE=alpine:3.20
FROM ${BASE} AS base
FROM golang:1.22 AS build
COPY --from=base /etc/os-release /
RUN --mount=type=cache,target=/root/.cache --mount=from=tools,target=/t make
FROM base AS tools
FROM scratch AS unused
FROM base AS final
COPY --from=build /out /app
COPY --from=0 /a /b
COPY --from=nginx:latest /etc/nginx /etc/nginx
";

    #[test]
    fn splits_stages_and_global_args() {
        let built = stages(MULTI_STAGE);
        assert_eq!(built.global_args.len(), 1);
        assert_eq!(built.global_args[0].value.name, "BASE");
        assert_eq!(built.stages.len(), 5);
        assert_eq!(built.stages[1].name(), Some("build"));
        assert_eq!(built.stages[1].instructions.len(), 2);
        assert_eq!(built.stage_named("BUILD").map(|stage| stage.index), Some(1));
    }

    #[test]
    fn build_order_follows_every_kind_of_reference() {
        assert_eq!(order(MULTI_STAGE, None).unwrap(), [0, 2, 1, 4]);
        assert_eq!(order(MULTI_STAGE, Some("build")).unwrap(), [0, 2, 1]);
        assert_eq!(order(MULTI_STAGE, Some("unused")).unwrap(), [3]);
    }

    #[test]
    fn global_args_expand_in_from() {
        let built = stages(MULTI_STAGE);
        let mut args = BuildArgs::default();
        let scope = built.global_scope(&args).unwrap();
        assert_eq!(
            built.base(0, &scope).unwrap(),
            StageBase::Image("alpine:3.20".into())
        );
        assert_eq!(built.base(3, &scope).unwrap(), StageBase::Scratch);
        assert_eq!(built.base(4, &scope).unwrap(), StageBase::Stage(0));
        args.values.insert("BASE".into(), "debian".into());
        let scope = built.global_scope(&args).unwrap();
        assert_eq!(
            built.base(0, &scope).unwrap(),
            StageBase::Image("debian".into())
        );
    }

    #[test]
    fn from_can_name_a_stage_through_an_arg() {
        let source = "ARG FLAVOR=dev\nFROM alpine AS dev\nFROM alpine AS prod\nFROM ${FLAVOR}\n";
        assert_eq!(order(source, None).unwrap(), [0, 2]);
        let built = stages(source);
        let mut args = BuildArgs::default();
        args.values.insert("FLAVOR".into(), "prod".into());
        assert_eq!(built.build_order(None, &args).unwrap(), [1, 2]);
    }

    #[test]
    fn automatic_args_need_no_declaration() {
        let built = stages("FROM --platform=$BUILDPLATFORM alpine-$TARGETARCH\n");
        let mut args = BuildArgs::default();
        args.automatic.insert("TARGETARCH".into(), "arm64".into());
        let scope = built.global_scope(&args).unwrap();
        assert_eq!(
            built.base(0, &scope).unwrap(),
            StageBase::Image("alpine-arm64".into())
        );
    }

    #[test]
    fn from_only_sees_earlier_stages() {
        let built = stages("FROM later AS first\nFROM alpine AS later\n");
        let scope = built.global_scope(&BuildArgs::default()).unwrap();
        assert_eq!(
            built.base(0, &scope).unwrap(),
            StageBase::Image("later".into())
        );
    }

    #[test]
    fn errors() {
        let cycle = "FROM alpine AS a\nCOPY --from=b / /\nFROM alpine AS b\nCOPY --from=a / /\n";
        assert_eq!(
            order(cycle, Some("a")).unwrap_err().to_string(),
            "line 4: circular dependency detected on stage a"
        );
        assert_eq!(
            order("FROM alpine\nCOPY --from=0 / /\n", None)
                .unwrap_err()
                .to_string(),
            "line 2: circular dependency detected on stage 0"
        );
        assert_eq!(
            order("FROM alpine\nCOPY --from=3 / /\n", None)
                .unwrap_err()
                .to_string(),
            "line 2: invalid stage index 3"
        );
        let missing = order("FROM alpine AS a\n", Some("b")).unwrap_err();
        assert_eq!(missing.to_string(), "target stage `b` not found");
        assert_eq!(missing.hint().as_deref(), Some("the named stages are: a"));
        assert_eq!(
            order("ARG X\nFROM $X\n", None).unwrap_err().to_string(),
            "line 2: base name `$X` is empty after expanding build arguments"
        );
        assert_eq!(
            order("FROM ${X:?must_be_set}\n", None)
                .unwrap_err()
                .to_string(),
            "line 1: cannot expand `${X:?must_be_set}`: X: must_be_set"
        );
        let parsed = parse("RUN echo\nFROM alpine\n").unwrap();
        let before = BuildStages::from_dockerfile(&parsed).unwrap_err();
        assert_eq!(
            before.to_string(),
            "line 1: RUN instruction before the first FROM"
        );
        assert_eq!(
            before.hint().as_deref(),
            Some("only ARG may come before the first FROM")
        );
        let only_args = parse("ARG A=1\n").unwrap();
        assert_eq!(
            BuildStages::from_dockerfile(&only_args).unwrap_err(),
            Error::NoStages
        );
    }
}
