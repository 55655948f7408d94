//! A compose project for end-to-end tests: a wharf in its own network namespace with
//! fixture images, and a folder holding `compose.yaml`.

use std::path::Path;
use std::process::Output;

use super::Wharf;

/// A wharf in its own network namespace with `fixtures` (name, tag) imported, or `None`
/// after printing SKIPPED.
pub fn isolated_wharf(fixtures: &[(&str, &str)]) -> Option<Wharf> {
    if !super::is_root() {
        super::skip("containers and networks need root");
        return None;
    }
    let wharf = Wharf::isolated();
    if wharf.netns.is_none() {
        super::skip("cannot make a network namespace for the test (`ip netns add`)");
        return None;
    }
    for (name, tag) in fixtures {
        wharf.import_fixture(name, tag);
    }
    Some(wharf)
}

pub struct ComposeProject {
    pub wharf: Wharf,
    pub dir: tempfile::TempDir,
}

impl ComposeProject {
    /// [`isolated_wharf`] with `yaml` as the project's `compose.yaml`.
    pub fn new(fixtures: &[(&str, &str)], yaml: &str) -> Option<Self> {
        let project = Self {
            wharf: isolated_wharf(fixtures)?,
            dir: tempfile::tempdir().expect("project folder"),
        };
        project.write(yaml);
        Some(project)
    }

    pub fn write(&self, yaml: &str) {
        std::fs::write(self.dir.path().join("compose.yaml"), yaml).expect("compose.yaml");
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `compose -f DIR/compose.yaml ARGS...`.
    fn args(&self, args: &[&str]) -> Vec<String> {
        let file = self.dir.path().join("compose.yaml").display().to_string();
        let mut all = vec!["compose".to_string(), "-f".to_string(), file];
        all.extend(args.iter().map(|a| a.to_string()));
        all
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let args = self.args(args);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.wharf.run(&args)
    }

    /// Runs and asserts success, returning stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let args = self.args(args);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.wharf.ok(&args)
    }

    /// Runs and asserts failure, returning stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let args = self.args(args);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.wharf.fails(&args)
    }

    /// `inspect -f TEMPLATE NAME`, trimmed.
    pub fn inspect(&self, template: &str, name: &str) -> String {
        self.wharf
            .ok(&["inspect", "-f", template, name])
            .trim()
            .to_string()
    }

    /// The names of every container, sorted.
    pub fn container_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .wharf
            .ok(&["ps", "-a", "--format", "{{.Names}}"])
            .lines()
            .map(str::to_string)
            .collect();
        names.sort();
        names
    }
}
