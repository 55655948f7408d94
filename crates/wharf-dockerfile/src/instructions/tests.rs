use super::*;
use crate::parser::parse;

fn one(source: &str) -> Instruction {
    match typed(source) {
        Ok(instruction) => instruction,
        Err(error) => panic!("{source:?}: {error}"),
    }
}

fn typed(source: &str) -> Result<Instruction, Error> {
    let dockerfile = parse(source).expect("parses");
    Instruction::from_node(&dockerfile.nodes[0])
}

fn error(source: &str) -> String {
    typed(source).expect_err(source).to_string()
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|word| word.to_string()).collect()
}

#[test]
fn from() {
    assert_eq!(
        one("FROM --platform=$BUILDPLATFORM golang:1.22 AS Build"),
        Instruction::From(FromInstruction {
            image: "golang:1.22".into(),
            stage_name: Some("build".into()),
            platform: Some("$BUILDPLATFORM".into()),
        })
    );
    assert_eq!(
        one("from alpine"),
        Instruction::From(FromInstruction {
            image: "alpine".into(),
            stage_name: None,
            platform: None,
        })
    );
    assert_eq!(
        error("FROM"),
        "line 1: FROM requires either one or three arguments"
    );
    assert_eq!(
        error("FROM a b"),
        "line 1: FROM requires either one or three arguments"
    );
    assert_eq!(
        error("FROM a AS 1st"),
        "line 1: invalid name for build stage: `1st`, name can't start with a number or contain symbols"
    );
    assert_eq!(
        error("FROM --plat=x a"),
        "line 1: unknown flag `--plat` for FROM"
    );
}

#[test]
fn run() {
    let Instruction::Run(run) = one(
        "RUN --mount=type=cache,target=/root/.cache --mount=type=secret,id=npm --network=none --security=insecure npm ci",
    ) else {
        panic!("RUN expected");
    };
    assert_eq!(run.command, CommandLine::Shell("npm ci".into()));
    assert_eq!(run.mounts.len(), 2);
    assert_eq!(run.mounts[0].kind, MountType::Cache);
    assert_eq!(run.mounts[1].id.as_deref(), Some("npm"));
    assert_eq!(run.network, NetworkMode::None);
    assert_eq!(run.security, SecurityMode::Insecure);

    let Instruction::Run(exec) = one(r#"RUN ["ls", "-la"]"#) else {
        panic!("RUN expected");
    };
    assert_eq!(exec.command, CommandLine::Exec(strings(&["ls", "-la"])));
    assert_eq!(exec.network, NetworkMode::Default);

    let Instruction::Run(heredoc) = one("RUN <<EOF\necho hi\nEOF\n") else {
        panic!("RUN expected");
    };
    assert_eq!(heredoc.command, CommandLine::Shell("<<EOF".into()));
    assert_eq!(heredoc.heredocs[0].content, "echo hi\n");

    assert_eq!(error("RUN"), "line 1: RUN requires at least one argument");
    assert_eq!(
        error("RUN --network=bridge x"),
        "line 1: unsupported network mode `bridge`"
    );
    assert_eq!(
        error("RUN --security=x y"),
        "line 1: unsupported security mode `x`"
    );
    assert_eq!(
        error("RUN --mount=type=nfs x"),
        "line 1: invalid `--mount`: unsupported mount type `nfs`"
    );
    let hint = typed("RUN --mount=type=nfs x").unwrap_err().hint();
    assert_eq!(
        hint.as_deref(),
        Some("mount types are bind, cache, tmpfs, secret and ssh")
    );
}

#[test]
fn cmd_and_entrypoint() {
    assert_eq!(
        one(r#"CMD ["nginx", "-g", "daemon off;"]"#),
        Instruction::Cmd(CommandLine::Exec(strings(&["nginx", "-g", "daemon off;"])))
    );
    assert_eq!(
        one("CMD []"),
        Instruction::Cmd(CommandLine::Exec(Vec::new()))
    );
    assert_eq!(
        one("ENTRYPOINT exec nginx"),
        Instruction::Entrypoint(CommandLine::Shell("exec nginx".into()))
    );
    assert_eq!(
        one("ENTRYPOINT"),
        Instruction::Entrypoint(CommandLine::Shell(String::new()))
    );
    assert_eq!(
        error(r#"CMD --doit ["a"]"#),
        "line 1: unknown flag `--doit` for CMD"
    );
    assert_eq!(
        typed("CMD --doit x").unwrap_err().hint().as_deref(),
        Some("CMD takes no flags")
    );
}

#[test]
fn env_and_label() {
    let pair = |key: &str, value: &str| KeyValue {
        key: key.into(),
        value: value.into(),
    };
    assert_eq!(
        one("ENV PATH /usr/local/bin:$PATH"),
        Instruction::Env(vec![pair("PATH", "/usr/local/bin:$PATH")])
    );
    assert_eq!(
        one(r#"ENV A=1 B="two words" C=three\ words"#),
        Instruction::Env(vec![
            pair("A", "1"),
            pair("B", "\"two words\""),
            pair("C", r"three\ words"),
        ])
    );
    assert_eq!(
        one(r#"LABEL org.opencontainers.image.title="wharf" version=1"#),
        Instruction::Label(vec![
            pair("org.opencontainers.image.title", "\"wharf\""),
            pair("version", "1"),
        ])
    );
    assert_eq!(error("ENV"), "line 1: ENV requires at least one argument");
    assert_eq!(error("ENV =x"), "line 1: ENV names can not be blank");
    assert_eq!(
        error("LABEL"),
        "line 1: LABEL requires at least one argument"
    );
    let missing = parse("FROM a\nENV PATH").unwrap_err();
    assert_eq!(missing.to_string(), "line 2: ENV must have two arguments");
    assert_eq!(missing.hint().as_deref(), Some("write `ENV NAME=VALUE`"));
}

#[test]
fn arg() {
    let declaration = |name: &str, default: Option<&str>| ArgDeclaration {
        name: name.into(),
        default: default.map(str::to_owned),
    };
    assert_eq!(
        one(r#"ARG VERSION=1.0 TARGETOS USER="a b" EMPTY="#),
        Instruction::Arg(vec![
            declaration("VERSION", Some("1.0")),
            declaration("TARGETOS", None),
            declaration("USER", Some("\"a b\"")),
            declaration("EMPTY", Some("")),
        ])
    );
    assert_eq!(error("ARG"), "line 1: ARG requires at least one argument");
    assert_eq!(error("ARG =x"), "line 1: ARG names can not be blank");
}

#[test]
fn expose_workdir_user_stopsignal_maintainer() {
    assert_eq!(
        one("EXPOSE 80/tcp 443"),
        Instruction::Expose(strings(&["80/tcp", "443"]))
    );
    assert_eq!(
        one("WORKDIR /app dir"),
        Instruction::Workdir("/app dir".into())
    );
    assert_eq!(one("USER app:app"), Instruction::User("app:app".into()));
    assert_eq!(
        one("STOPSIGNAL SIGQUIT"),
        Instruction::StopSignal("SIGQUIT".into())
    );
    assert_eq!(
        one("MAINTAINER Jane <jane@example.com>"),
        Instruction::Maintainer("Jane <jane@example.com>".into())
    );
    assert_eq!(
        error("EXPOSE"),
        "line 1: EXPOSE requires at least one argument"
    );
    assert_eq!(
        error("WORKDIR"),
        "line 1: WORKDIR requires exactly one argument"
    );
    assert_eq!(error("USER"), "line 1: USER requires exactly one argument");
    assert_eq!(
        error("STOPSIGNAL"),
        "line 1: STOPSIGNAL requires exactly one argument"
    );
}

#[test]
fn copy() {
    let Instruction::Copy(copy) = one(
        "COPY --from=build --chown=app:app --chmod=0755 --link --parents --exclude=*.md --exclude=.git a b /dest/",
    ) else {
        panic!("COPY expected");
    };
    assert_eq!(copy.from.as_deref(), Some("build"));
    assert!(copy.parents);
    assert_eq!(
        copy.files,
        FileTransfer {
            sources: strings(&["a", "b"]),
            inline_sources: Vec::new(),
            destination: "/dest/".into(),
            chown: Some("app:app".into()),
            chmod: Some("0755".into()),
            link: true,
            exclude: strings(&["*.md", ".git"]),
        }
    );
    let Instruction::Copy(json) = one(r#"COPY ["test file", "/tmp/test file"]"#) else {
        panic!("COPY expected");
    };
    assert_eq!(json.files.sources, ["test file"]);
    assert_eq!(json.files.destination, "/tmp/test file");

    assert_eq!(
        error("COPY onlyone"),
        "line 1: COPY requires at least two arguments: the sources and a destination"
    );
    assert_eq!(
        error("COPY --keep-git-dir a b"),
        "line 1: unknown flag `--keep-git-dir` for COPY"
    );
    assert_eq!(
        error("COPY a <<EOF\nx\nEOF\n"),
        "line 1: COPY cannot accept a heredoc as a destination"
    );
}

#[test]
fn copy_heredocs_become_inline_sources() {
    let Instruction::Copy(copy) =
        one("COPY <<-EOF <<'RAW' plain /dest\n\tchomped $X\n\tEOF\nkept $X\nRAW\n")
    else {
        panic!("COPY expected");
    };
    assert_eq!(copy.files.sources, ["plain"]);
    assert_eq!(
        copy.files.inline_sources,
        [
            InlineSource {
                name: "EOF".into(),
                content: "chomped $X\n".into(),
                expand: true,
            },
            InlineSource {
                name: "RAW".into(),
                content: "kept $X\n".into(),
                expand: false,
            },
        ]
    );
}

#[test]
fn add() {
    let Instruction::Add(add) = one(
        "ADD --keep-git-dir=true --checksum=sha256:abc --chown=1:1 https://example.com/repo.git /src",
    ) else {
        panic!("ADD expected");
    };
    assert!(add.keep_git_dir);
    assert_eq!(add.checksum.as_deref(), Some("sha256:abc"));
    assert_eq!(add.files.chown.as_deref(), Some("1:1"));
    assert_eq!(add.files.sources, ["https://example.com/repo.git"]);
    assert_eq!(
        error("ADD --from=x a b"),
        "line 1: unknown flag `--from` for ADD"
    );
    assert_eq!(
        error("ADD --link=maybe a b"),
        "line 1: flag `--link` takes true or false, not `maybe`"
    );
}

#[test]
fn volume() {
    assert_eq!(
        one(r#"VOLUME ["/data", "/logs"]"#),
        Instruction::Volume(strings(&["/data", "/logs"]))
    );
    assert_eq!(
        one("VOLUME /a /b"),
        Instruction::Volume(strings(&["/a", "/b"]))
    );
    assert_eq!(
        error(r#"VOLUME ["/a", " "]"#),
        "line 1: VOLUME specified can not be an empty string"
    );
}

#[test]
fn healthcheck() {
    assert_eq!(
        one("HEALTHCHECK NONE"),
        Instruction::Healthcheck(Healthcheck::Disabled)
    );
    assert_eq!(
        one("HEALTHCHECK --interval=5s --timeout=3s --start-period=1m --start-interval=500ms --retries=3 CMD curl -f http://localhost/"),
        Instruction::Healthcheck(Healthcheck::Check(HealthcheckConfig {
            command: CommandLine::Shell("curl -f http://localhost/".into()),
            interval: Some(Duration::from_secs(5)),
            timeout: Some(Duration::from_secs(3)),
            start_period: Some(Duration::from_secs(60)),
            start_interval: Some(Duration::from_millis(500)),
            retries: Some(3),
        }))
    );
    assert_eq!(
        one(r#"HEALTHCHECK --interval=0s --retries=0 cmd ["check"]"#),
        Instruction::Healthcheck(Healthcheck::Check(HealthcheckConfig {
            command: CommandLine::Exec(strings(&["check"])),
            interval: None,
            timeout: None,
            start_period: None,
            start_interval: None,
            retries: Some(0),
        }))
    );
    assert_eq!(
        error("HEALTHCHECK"),
        "line 1: HEALTHCHECK requires at least one argument"
    );
    assert_eq!(
        error("HEALTHCHECK NONE x"),
        "line 1: HEALTHCHECK NONE takes no arguments or flags"
    );
    assert_eq!(
        error("HEALTHCHECK --retries=1 NONE"),
        "line 1: HEALTHCHECK NONE takes no arguments or flags"
    );
    assert_eq!(
        error("HEALTHCHECK CMD"),
        "line 1: missing command after HEALTHCHECK CMD"
    );
    assert_eq!(
        error("HEALTHCHECK CONNECT TCP 7000"),
        "line 1: unknown HEALTHCHECK type `CONNECT`"
    );
    assert_eq!(
        error("HEALTHCHECK --interval=5 CMD x"),
        "line 1: invalid duration `5` for `--interval`"
    );
    assert_eq!(
        error("HEALTHCHECK --timeout=1us CMD x"),
        "line 1: `--timeout` cannot be less than 1ms"
    );
    assert_eq!(
        error("HEALTHCHECK --retries=-1 CMD x"),
        "line 1: invalid `--retries` value `-1`: it must be a whole number of at least 0"
    );
    assert_eq!(
        error("HEALTHCHECK --start=1s CMD x"),
        "line 1: unknown flag `--start` for HEALTHCHECK"
    );
}

#[test]
fn shell() {
    assert_eq!(
        one(r#"SHELL ["powershell", "-command"]"#),
        Instruction::Shell(strings(&["powershell", "-command"]))
    );
    assert_eq!(
        error("SHELL /bin/bash -c"),
        "line 1: SHELL requires the arguments to be in JSON form"
    );
    assert_eq!(
        error("SHELL []"),
        "line 1: SHELL requires at least one argument"
    );
}

#[test]
fn onbuild() {
    let Instruction::Onbuild(onbuild) = one("ONBUILD RUN echo test") else {
        panic!("ONBUILD expected");
    };
    assert_eq!(onbuild.expression, "RUN echo test");
    assert_eq!(
        *onbuild.trigger,
        Instruction::Run(RunInstruction {
            command: CommandLine::Shell("echo test".into()),
            heredocs: Vec::new(),
            mounts: Vec::new(),
            network: NetworkMode::Default,
            security: SecurityMode::Sandbox,
        })
    );
    let Instruction::Onbuild(heredoc) = one("onbuild COPY <<EOF /x\nhello\nEOF\n") else {
        panic!("ONBUILD expected");
    };
    assert_eq!(heredoc.expression, "COPY <<EOF /x\nhello\nEOF");
    let Instruction::Copy(copy) = *heredoc.trigger else {
        panic!("COPY trigger expected");
    };
    assert_eq!(copy.files.inline_sources[0].content, "hello\n");

    assert_eq!(
        error("ONBUILD"),
        "line 1: ONBUILD requires at least one argument"
    );
    assert_eq!(
        error("ONBUILD ONBUILD RUN x"),
        "line 1: chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
    );
    assert_eq!(
        error("ONBUILD FROM alpine"),
        "line 1: FROM isn't allowed as an ONBUILD trigger"
    );
    assert_eq!(
        error("ONBUILD maintainer me"),
        "line 1: MAINTAINER isn't allowed as an ONBUILD trigger"
    );
    assert_eq!(error("ONBUILD FORM x"), "line 1: unknown instruction: FORM");
}

#[test]
fn unknown_instruction_suggests_a_fix() {
    let unknown = parse_instructions(&parse("FROM a\n\nFORM b").unwrap()).unwrap_err();
    assert_eq!(unknown.to_string(), "line 3: unknown instruction: FORM");
    assert_eq!(unknown.hint().as_deref(), Some("did you mean `FROM`?"));
    let far = typed("INSTALL x").unwrap_err();
    assert_eq!(far.to_string(), "line 1: unknown instruction: INSTALL");
    assert_eq!(far.hint(), None);
}

#[test]
fn all_instructions_with_lines() {
    let dockerfile = parse("FROM a\nRUN x \\\n  y\nCMD z\n").unwrap();
    let located = parse_instructions(&dockerfile).unwrap();
    let lines: Vec<(&str, usize, usize)> = located
        .iter()
        .map(|item| (item.value.name(), item.lines.start, item.lines.end))
        .collect();
    assert_eq!(lines, [("FROM", 1, 1), ("RUN", 2, 3), ("CMD", 4, 4)]);
}
