//! The commands of a RUN line, read the way hadolint reads them through ShellCheck's parser:
//! every simple command with a literal name, in the order they appear (an outer command
//! before the ones in its `$(...)`), each with its arguments unquoted and its flags split
//! (`-xvf` is `x`, `v`, `f`; `--out=f` is `out`). Expansions become `${NAME}`; redirections
//! and leading `NAME=value` assignments are not arguments. Keywords (`if`, `then`, `do`...)
//! start a new command; `[ ... ]` and `[[ ... ]]` are tests, not commands (ShellCheck
//! parses them as conditions).

/// A parsed shell script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    pub commands: Vec<Command>,
    /// A `|` appears somewhere (a pipeline).
    pub has_pipes: bool,
}

/// One simple command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub name: String,
    /// The words after the command word.
    pub args: Vec<String>,
    /// Each flag letter or long name, with the index of the argument it came from.
    flags: Vec<(String, usize)>,
}

const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time",
];

impl Script {
    pub fn parse(text: &str) -> Self {
        let mut parser = Parser {
            chars: text.chars().collect(),
            at: 0,
            script: Script::default(),
        };
        parser.script_until(None);
        parser.script
    }

    /// The names of all commands.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.commands.iter().map(|command| command.name.as_str())
    }

    /// Some command is `name`.
    pub fn uses(&self, name: &str) -> bool {
        self.names().any(|found| found == name)
    }
}

impl Command {
    fn new(name: String, args: Vec<String>) -> Self {
        let flags = args
            .iter()
            .enumerate()
            .flat_map(|(index, arg)| {
                let letters: Vec<String> = if arg == "-" || arg == "--" {
                    Vec::new()
                } else if let Some(long) = arg.strip_prefix("--") {
                    vec![long.split('=').next().unwrap_or_default().to_owned()]
                } else if let Some(short) = arg.strip_prefix('-') {
                    short.chars().map(String::from).collect()
                } else {
                    Vec::new()
                };
                letters.into_iter().map(move |flag| (flag, index))
            })
            .collect();
        Self { name, args, flags }
    }

    /// The command is `name` and one of its arguments is one of `args`.
    pub fn has_args(&self, name: &str, args: &[&str]) -> bool {
        self.name == name && self.args.iter().any(|arg| args.contains(&arg.as_str()))
    }

    pub fn has_arg(&self, arg: &str) -> bool {
        self.args.iter().any(|given| given == arg)
    }

    /// `args` appear in a row.
    pub fn has_sequence(&self, args: &[&str]) -> bool {
        self.args
            .windows(args.len())
            .any(|window| window.iter().zip(args).all(|(given, want)| given == want))
    }

    pub fn flag_count(&self, flag: &str) -> usize {
        self.flags.iter().filter(|(given, _)| given == flag).count()
    }

    pub fn has_flag(&self, flag: &str) -> bool {
        self.flag_count(flag) > 0
    }

    pub fn has_any_flag(&self, flags: &[&str]) -> bool {
        self.flags
            .iter()
            .any(|(given, _)| flags.contains(&given.as_str()))
    }

    /// The arguments that are not flags.
    pub fn operands(&self) -> Vec<&str> {
        self.args
            .iter()
            .enumerate()
            .filter(|(index, _)| !self.flags.iter().any(|(_, at)| at == index))
            .map(|(_, arg)| arg.as_str())
            .collect()
    }

    /// The values given to `flag` as the next argument (`-u 1000`).
    pub fn flag_values(&self, flag: &str) -> Vec<&str> {
        self.flags
            .iter()
            .filter(|(given, _)| given == flag)
            .filter_map(|(_, at)| self.args.get(at + 1))
            .map(String::as_str)
            .collect()
    }

    /// The command without the values of `flags` that take one as the next argument.
    pub fn without_flag_values(&self, flags: &[&str]) -> Command {
        let dropped: Vec<usize> = self
            .flags
            .iter()
            .filter(|(flag, at)| flags.contains(&flag.as_str()) && !self.args[*at].contains('='))
            .map(|(_, at)| at + 1)
            .collect();
        let mut command = self.clone();
        command.flags.retain(|(_, at)| !dropped.contains(at));
        let mut index = 0;
        command.args.retain(|_| {
            index += 1;
            !dropped.contains(&(index - 1))
        });
        // Re-number the flags after the removed arguments.
        Command::new(command.name, command.args)
    }

    /// `pip install`, `pip3 install`, `python -m pip install` (not pipenv).
    pub fn is_pip_install(&self) -> bool {
        (self.name.starts_with("pip")
            && !self.name.starts_with("pipenv")
            && self.has_arg("install"))
            || (self.name.starts_with("python") && self.has_sequence(&["-m", "pip", "install"]))
    }
}

struct Parser {
    chars: Vec<char>,
    at: usize,
    script: Script,
}

/// A word as read: its unquoted text and whether it is a plain literal.
struct Word {
    text: String,
    literal: bool,
    /// `NAME=...` with an unquoted `=` after a valid name.
    assignment: bool,
}

impl Parser {
    fn peek(&self, offset: usize) -> Option<char> {
        self.chars.get(self.at + offset).copied()
    }

    /// Reads commands until `end` (a closing `)` or `` ` ``) or the end of the text.
    fn script_until(&mut self, end: Option<char>) {
        let mut words: Vec<Word> = Vec::new();
        let mut nested: Vec<Command> = Vec::new();
        while let Some(ch) = self.peek(0) {
            if Some(ch) == end {
                self.at += 1;
                break;
            }
            match ch {
                ' ' | '\t' | '\r' => self.at += 1,
                '\\' if self.peek(1) == Some('\n') => self.at += 2,
                '#' => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.at += 1;
                    }
                }
                '\n' | ';' | '&' | '|' | '(' | ')' => {
                    if ch == '&' && self.peek(1) == Some('>') {
                        self.redirection(&mut nested);
                        continue;
                    }
                    if ch == '|' && self.peek(1) != Some('|') {
                        self.script.has_pipes = true;
                    }
                    self.at += 1;
                    if matches!(ch, '&' | '|' | ';') && self.peek(0) == Some(ch) {
                        self.at += 1;
                    }
                    self.finish(&mut words, &mut nested);
                }
                '<' | '>' => self.redirection(&mut nested),
                '0'..='9' if self.is_fd_redirection() => self.redirection(&mut nested),
                _ => {
                    let word = self.word(&mut nested);
                    if words.is_empty() && word.literal && (word.text == "[[" || word.text == "[") {
                        self.skip_test(if word.text == "[" { "]" } else { "]]" });
                    } else if words.is_empty()
                        && word.literal
                        && matches!(word.text.as_str(), "for" | "case" | "select")
                    {
                        self.skip_clause(&mut nested);
                    } else if words.is_empty()
                        && word.literal
                        && KEYWORDS.contains(&word.text.as_str())
                    {
                    } else if !(words.is_empty() && word.assignment) {
                        words.push(word);
                    }
                }
            }
        }
        self.finish(&mut words, &mut nested);
    }

    fn finish(&mut self, words: &mut Vec<Word>, nested: &mut Vec<Command>) {
        let taken = std::mem::take(words);
        if let Some((first, rest)) = taken.split_first() {
            if first.literal {
                let args: Vec<String> = rest.iter().map(|word| word.text.clone()).collect();
                let name = wrapped_command(&first.text, rest).unwrap_or(&first.text);
                self.script
                    .commands
                    .push(Command::new(name.to_owned(), args));
            }
        }
        self.script.commands.append(nested);
    }

    /// `2>&1`, `2>/dev/null`: digits right before `<` or `>`.
    fn is_fd_redirection(&self) -> bool {
        let mut offset = 0;
        while self.peek(offset).is_some_and(|c| c.is_ascii_digit()) {
            offset += 1;
        }
        matches!(self.peek(offset), Some('<' | '>'))
            && (self.at == 0 || matches!(self.chars[self.at - 1], ' ' | '\t' | ';' | '&' | '|'))
    }

    /// An operator and its target, neither of which is an argument.
    fn redirection(&mut self, nested: &mut Vec<Command>) {
        while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        let mut operator = String::new();
        while let Some(c @ ('<' | '>' | '&' | '|')) = self.peek(0) {
            operator.push(c);
            self.at += 1;
        }
        if operator.ends_with('&') && self.peek(0).is_some_and(|c| c.is_ascii_digit() || c == '-') {
            self.at += 1;
            return;
        }
        while matches!(self.peek(0), Some(' ' | '\t')) {
            self.at += 1;
        }
        if self.peek(0).is_some_and(|c| !matches!(c, '\n' | ';' | ')')) {
            self.word(nested);
        }
    }

    /// Skips a test up to its closing word (`]` or `]]`), quotes respected.
    fn skip_test(&mut self, close: &str) {
        let mut ignored = Vec::new();
        while let Some(c) = self.peek(0) {
            match c {
                ' ' | '\t' => self.at += 1,
                '\n' | ';' | '&' | '|' if close == "]" => return,
                '<' | '>' | '(' | ')' | ';' | '&' | '|' | '\n' => self.at += 1,
                _ => {
                    if self.skip_word(&mut ignored).text == close {
                        return;
                    }
                }
            }
        }
    }

    /// `for NAME in WORDS`, up to `;` or a newline; `do` then starts the body.
    fn skip_clause(&mut self, nested: &mut Vec<Command>) {
        while let Some(c) = self.peek(0) {
            match c {
                ';' | '\n' => return,
                ' ' | '\t' => self.at += 1,
                _ => {
                    self.skip_word(nested);
                }
            }
        }
    }

    /// A word, or the character no word starts with (an operator, `\r`): the skipping
    /// loops above always move on, whatever follows.
    fn skip_word(&mut self, nested: &mut Vec<Command>) -> Word {
        let at = self.at;
        let word = self.word(nested);
        if self.at == at {
            self.at += 1;
        }
        word
    }

    fn word(&mut self, nested: &mut Vec<Command>) -> Word {
        let mut word = Word {
            text: String::new(),
            literal: true,
            assignment: false,
        };
        let mut name_so_far = true;
        while let Some(c) = self.peek(0) {
            match c {
                ' ' | '\t' | '\n' | '\r' | ';' | '&' | '|' | '(' | ')' | '<' | '>' => break,
                '\\' => {
                    self.at += 1;
                    if let Some(escaped) = self.peek(0) {
                        if escaped != '\n' {
                            word.text.push(escaped);
                        }
                        self.at += 1;
                    }
                    name_so_far = false;
                }
                '\'' => {
                    self.single_quoted(&mut word.text);
                    name_so_far = false;
                }
                '"' => {
                    self.at += 1;
                    self.double_quoted(&mut word, nested);
                    name_so_far = false;
                }
                '$' => {
                    self.expansion(&mut word, nested);
                    name_so_far = false;
                }
                '`' => {
                    self.backticks(nested);
                    word.text.push_str("${VAR}");
                    word.literal = false;
                    name_so_far = false;
                }
                '=' if name_so_far && !word.text.is_empty() && !word.assignment => {
                    word.assignment = !word.text.starts_with(|c: char| c.is_ascii_digit());
                    word.text.push('=');
                    self.at += 1;
                }
                _ => {
                    if !(c.is_ascii_alphanumeric() || c == '_') {
                        name_so_far = false;
                    }
                    word.text.push(c);
                    self.at += 1;
                }
            }
        }
        word
    }

    /// From an opening `'` to the closing one, the text in between taken as is.
    fn single_quoted(&mut self, text: &mut String) {
        self.at += 1;
        while let Some(c) = self.peek(0) {
            self.at += 1;
            if c == '\'' {
                return;
            }
            text.push(c);
        }
    }

    fn double_quoted(&mut self, word: &mut Word, nested: &mut Vec<Command>) {
        while let Some(c) = self.peek(0) {
            match c {
                '"' => {
                    self.at += 1;
                    return;
                }
                '\\' => {
                    self.at += 1;
                    match self.peek(0) {
                        Some(escaped @ ('"' | '\\' | '$' | '`')) => word.text.push(escaped),
                        Some('\n') => {}
                        Some(other) => {
                            word.text.push('\\');
                            word.text.push(other);
                        }
                        None => return,
                    }
                    self.at += 1;
                }
                '$' => self.expansion(word, nested),
                '`' => {
                    self.backticks(nested);
                    word.text.push_str("${VAR}");
                    word.literal = false;
                }
                _ => {
                    word.text.push(c);
                    self.at += 1;
                }
            }
        }
    }

    /// `$NAME`, `${...}`, `$(...)`, `$((...))`, `$'...'`.
    fn expansion(&mut self, word: &mut Word, nested: &mut Vec<Command>) {
        self.at += 1;
        match self.peek(0) {
            Some('(') if self.peek(1) == Some('(') => {
                self.skip_balanced('(', ')');
                word.text.push_str("${VAR}");
                word.literal = false;
            }
            Some('(') => {
                self.at += 1;
                let mut inner = Parser {
                    chars: std::mem::take(&mut self.chars),
                    at: self.at,
                    script: Script::default(),
                };
                inner.script_until(Some(')'));
                self.chars = inner.chars;
                self.at = inner.at;
                self.script.has_pipes |= inner.script.has_pipes;
                // ShellCheck's simplified text of `$(cmd args)`: its words run together.
                word.text.push_str("${");
                for command in &inner.script.commands {
                    word.text.push_str(&command.name);
                    command.args.iter().for_each(|arg| word.text.push_str(arg));
                }
                word.text.push('}');
                nested.extend(inner.script.commands);
                word.literal = false;
            }
            Some('{') => {
                let start = self.at + 1;
                self.skip_balanced('{', '}');
                // Without its `}` (the text ended), the rest is the name.
                let end = self.at.min(self.chars.len());
                let end = if end > start && self.chars[end - 1] == '}' {
                    end - 1
                } else {
                    end
                };
                let inner: String = self.chars[start.min(end)..end].iter().collect();
                word.text.push_str(&format!("${{{inner}}}"));
                word.literal = false;
            }
            Some('\'') => self.single_quoted(&mut word.text),
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let mut name = String::new();
                while let Some(c) = self
                    .peek(0)
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    name.push(c);
                    self.at += 1;
                }
                word.text.push_str(&format!("${{{name}}}"));
                word.literal = false;
            }
            Some(c) if c.is_ascii_digit() || "?@#*$!-".contains(c) => {
                self.at += 1;
                word.text.push_str(&format!("${{{c}}}"));
                word.literal = false;
            }
            _ => word.text.push('$'),
        }
    }

    /// Skips from an opening character to its balanced closing one, quotes respected.
    fn skip_balanced(&mut self, open: char, close: char) {
        let mut depth = 0;
        while let Some(c) = self.peek(0) {
            self.at += 1;
            match c {
                '\\' => self.at += 1,
                '\'' => {
                    while self.peek(0).is_some_and(|q| q != '\'') {
                        self.at += 1;
                    }
                    self.at += 1;
                }
                _ if c == open => depth += 1,
                _ if c == close => {
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
    }

    fn backticks(&mut self, nested: &mut Vec<Command>) {
        self.at += 1;
        let start = self.at;
        while let Some(c) = self.peek(0) {
            if c == '\\' {
                self.at += 2;
                continue;
            }
            if c == '`' {
                break;
            }
            self.at += 1;
        }
        let inner: String = self.chars[start..self.at.min(self.chars.len())]
            .iter()
            .collect();
        self.at += 1;
        let script = Script::parse(&inner);
        self.script.has_pipes |= script.has_pipes;
        nested.extend(script.commands);
    }
}

/// `command X`, `builtin X`, `busybox X`, `exec X`: ShellCheck names the command by `X`.
fn wrapped_command<'a>(name: &str, rest: &'a [Word]) -> Option<&'a str> {
    match name {
        "busybox" | "builtin" | "command" | "run" => rest
            .first()
            .filter(|word| word.literal && !word.text.starts_with('-'))
            .map(|word| word.text.as_str()),
        "exec" => {
            let mut words = rest.iter();
            while let Some(word) = words.next() {
                match word.text.as_str() {
                    "-a" => {
                        words.next();
                    }
                    flag if flag.starts_with('-') => {}
                    _ => return word.literal.then_some(word.text.as_str()),
                }
            }
            None
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        Script::parse(text)
            .commands
            .into_iter()
            .map(|command| command.name)
            .collect()
    }

    #[test]
    fn splits_lists_and_pipelines() {
        assert_eq!(
            names("apt-get update && apt-get install -y curl; rm -rf /x || true"),
            ["apt-get", "apt-get", "rm", "true"]
        );
        assert!(Script::parse("curl x | sh").has_pipes);
        assert!(!Script::parse("a || b").has_pipes);
        assert!(Script::parse("echo $(a | b)").has_pipes);
    }

    #[test]
    fn keywords_assignments_and_substitutions() {
        assert_eq!(names("if [ -f x ]; then FOO=1 pip install a; fi"), ["pip"]);
        assert_eq!(names("for f in a b; do echo $f; done"), ["echo"]);
        assert_eq!(names("X=$(cat /v) && echo `date`"), ["cat", "echo", "date"]);
        assert_eq!(names("[[ -f a && -f b ]] && ls"), ["ls"]);
        assert_eq!(names("exec gunicorn app"), ["gunicorn"]);
        assert_eq!(names("$CMD run"), Vec::<String>::new());
    }

    /// A `for` clause or a test holding an operator or a `\r` (a CRLF Dockerfile) looped
    /// forever: found by the `lint` fuzz target.
    #[test]
    fn clauses_and_tests_with_operators_or_carriage_returns_end() {
        assert_eq!(names("for f in *.txt 2>&1; do rm $f; done"), ["rm"]);
        assert_eq!(names("for f in a (b) | c\ndo echo $f; done"), ["echo"]);
        assert_eq!(names("for f in a b\r\ndo echo $f\r\ndone"), ["echo"]);
        assert_eq!(names("[ -f a\r ] && ls"), ["ls"]);
        assert_eq!(names("[[ -f a\r ]] && ls"), ["ls"]);
    }

    /// `${` with no `}` before the end of the text sliced backwards: found by the lint
    /// fuzz target.
    #[test]
    fn an_unclosed_brace_expansion_ends_the_word() {
        for text in [
            "echo ${",
            "echo ${a",
            "echo ${a\\",
            "echo ${'a",
            "echo ${{}",
        ] {
            assert_eq!(names(text), ["echo"], "{text}");
        }
        assert_eq!(Script::parse("echo ${a").commands[0].args, ["${a}"]);
    }

    #[test]
    fn arguments_are_unquoted_and_redirections_dropped() {
        let script = Script::parse("pip install \"flask==2.0\" 'x y' >/dev/null 2>&1 $PKG");
        assert_eq!(
            script.commands[0].args,
            ["install", "flask==2.0", "x y", "${PKG}"]
        );
        let script = Script::parse("pip install flask>=2");
        assert_eq!(script.commands[0].args, ["install", "flask"]);
    }

    #[test]
    fn flags() {
        let command = &Script::parse("tar -xzf a.tgz --strip=1 -- b").commands[0];
        assert!(command.has_flag("x") && command.has_flag("f") && command.has_flag("strip"));
        assert_eq!(command.operands(), ["a.tgz", "--", "b"]);
        let command = &Script::parse("useradd -u 100000 -m app").commands[0];
        assert_eq!(command.flag_values("u"), ["100000"]);
        assert_eq!(command.without_flag_values(&["u"]).operands(), ["app"]);
    }
}
