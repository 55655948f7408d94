//! Expected outputs as Docker 28's `inspect -f` prints them over the same values.

use serde_json::json;

use super::Template;

fn render(template: &str, value: &serde_json::Value) -> String {
    Template::parse(template)
        .unwrap_or_else(|e| panic!("{template}: {e}"))
        .render(value)
        .unwrap_or_else(|e| panic!("{template}: {e}"))
}

fn error(template: &str, value: &serde_json::Value) -> String {
    match Template::parse(template) {
        Err(e) => e,
        Ok(t) => t.render(value).expect_err(template),
    }
}

fn container() -> serde_json::Value {
    json!({
        "Name": "/web",
        "Args": ["-c", "sleep 1"],
        "Config": {
            "Env": ["PATH=/bin", "A=1"],
            "Labels": {"tier": "front", "com.x": "y"},
            "Cmd": null,
            "Tty": false,
        },
        "State": {"Running": true, "ExitCode": 0, "Health": null},
        "NetworkSettings": {"Networks": {"app_default": {"IPAddress": "10.0.0.2"}}},
    })
}

#[test]
fn fields_json_and_text() {
    let c = container();
    assert_eq!(render("{{.Name}} {{.Args}}", &c), "/web [-c sleep 1]");
    // Objects keep the order the engine gave them (Docker's struct fields).
    assert_eq!(
        render("{{json .Config.Labels}}", &c),
        r#"{"tier":"front","com.x":"y"}"#
    );
    assert_eq!(render("{{.Config.Cmd}}", &c), "<nil>");
    assert_eq!(render("{{ .State.ExitCode }}\\t", &c), "0\\t");
    assert_eq!(render("{{$.Name}}", &c), "/web");
    assert_eq!(render("{{/* a comment */}}x", &c), "x");
}

#[test]
fn range_index_len_and_join() {
    let c = container();
    assert_eq!(
        render("{{range .Config.Env}}{{.}};{{end}}", &c),
        "PATH=/bin;A=1;"
    );
    assert_eq!(
        render(
            "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}",
            &c
        ),
        "com.x=y tier=front "
    );
    assert_eq!(
        render(
            "{{range $name, $net := .NetworkSettings.Networks}}{{$name}} {{$net.IPAddress}}{{end}}",
            &c
        ),
        "app_default 10.0.0.2"
    );
    assert_eq!(
        render("{{range $i, $e := .Args}}{{$i}}:{{$e}} {{end}}", &c),
        "0:-c 1:sleep 1 "
    );
    assert_eq!(
        render("{{range .Config.Cmd}}x{{else}}none{{end}}", &c),
        "none"
    );
    assert_eq!(render("{{index .Config.Labels \"tier\"}}", &c), "front");
    assert_eq!(render("{{index .Config.Labels \"nope\"}}", &c), "");
    assert_eq!(render("{{index .Args 1}}", &c), "sleep 1");
    assert_eq!(
        render(
            "{{(index .NetworkSettings.Networks \"app_default\").IPAddress}}",
            &c
        ),
        "10.0.0.2"
    );
    assert_eq!(render("{{len .Config.Env}} {{len .Name}}", &c), "2 4");
    assert_eq!(render("{{join .Config.Env \",\"}}", &c), "PATH=/bin,A=1");
    assert_eq!(render("{{.Config.Env | len}}", &c), "2");
}

#[test]
fn conditions_and_string_functions() {
    let c = container();
    assert_eq!(
        render("{{if .State.Running}}up{{else}}down{{end}}", &c),
        "up"
    );
    assert_eq!(
        render(
            "{{if .Config.Tty}}tty{{else if .State.Running}}running{{else}}no{{end}}",
            &c
        ),
        "running"
    );
    assert_eq!(
        render(
            "{{if eq .State.ExitCode 0}}ok{{end}} {{if ne .Name \"/db\"}}not db{{end}}",
            &c
        ),
        "ok not db"
    );
    assert_eq!(
        render("{{if and .State.Running (not .Config.Tty)}}yes{{end}}", &c),
        "yes"
    );
    assert_eq!(
        render("{{with .State.Health}}h{{else}}no check{{end}}", &c),
        "no check"
    );
    assert_eq!(
        render("{{with .State.Missing}}x{{else}}no such field{{end}}", &c),
        "no such field"
    );
    assert_eq!(render("{{if .Nope}}x{{else}}y{{end}}", &c), "y");
    assert_eq!(render("{{with .Config}}{{.Tty}}{{end}}", &c), "false");
    assert_eq!(
        render("{{upper .Name}} {{lower \"AB\"}} {{title \"web app\"}}", &c),
        "/WEB ab Web App"
    );
    assert_eq!(render("{{split \"a:b\" \":\"}}", &c), "[a b]");
    assert_eq!(
        render("{{printf \"%s-%d\" .Name .State.ExitCode}}", &c),
        "/web-0"
    );
    assert_eq!(
        render("{{truncate .Name 2}}|{{pad .Name 1 1}}|", &c),
        "/w| /web |"
    );
    assert_eq!(render("{{- \"a\" }}  \n {{- \"b\" -}}  c", &c), "abc");
}

#[test]
fn errors_name_what_is_wrong() {
    let c = container();
    assert_eq!(error("{{nope .Name}}", &c), "function \"nope\" not defined");
    assert_eq!(
        error(
            "{{if .State.Running}}{{range .Args}}{{frob}}{{end}}{{end}}",
            &c
        ),
        "function \"frob\" not defined"
    );
    assert!(error("{{.Missing}}", &c).contains("can't evaluate field Missing"));
    assert!(error("{{.State.Health.Status}}", &c).contains("nil pointer"));
    assert!(error("{{range .Args}}", &c).contains("without {{end}}"));
    assert!(error("{{end}}", &c).contains("unexpected {{end}}"));
    assert!(error("{{.Name", &c).contains("unclosed action"));
    assert!(error("{{index .Args 9}}", &c).contains("index out of range"));
    assert!(error("{{.Name .Args}}", &c).contains("can't give argument to non-function"));
    assert!(error("{{len}}", &c).contains("wrong number of args for len"));
}
