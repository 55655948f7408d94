//! Heredocs: `RUN <<EOF`, `COPY <<-'EOF' /dest`, `RUN 3<<EOF`, several on one line.

use std::borrow::Cow;

use crate::error::ErrorKind;
use crate::shell::{NoVariables, ShellLexer};

/// A heredoc attached to a RUN, COPY or ADD line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The terminating word, quotes removed.
    pub name: String,
    /// `3<<EOF` redirects file descriptor 3; 0 when none is given.
    pub file_descriptor: u32,
    /// Whether variables in the content are expanded (the word was not quoted).
    pub expand: bool,
    /// `<<-`: leading tabs are removed from the content lines and the terminator.
    pub chomp: bool,
    /// The lines between the instruction and the terminator, line endings kept.
    pub content: String,
}

impl Heredoc {
    /// The content as the build uses it: leading tabs removed from each line for `<<-`.
    pub fn body(&self) -> Cow<'_, str> {
        if !self.chomp {
            return Cow::Borrowed(&self.content);
        }
        Cow::Owned(
            self.content
                .split_inclusive('\n')
                .map(|line| line.trim_start_matches('\t'))
                .collect(),
        )
    }
}

/// Go's regexp `\s`.
fn is_regex_space(ch: char) -> bool {
    matches!(ch, ' ' | '\t' | '\n' | '\u{c}' | '\r')
}

/// Reads a heredoc word like `<<EOF`, `<<-"EOF"`, `<< EOF` or `3<<EOF` (the shape of
/// BuildKit's `^(\d*)<<(-?)\s*([^<]*)$`); `Ok(None)` when the word is not a heredoc.
pub(crate) fn parse_heredoc_word(word: &str) -> Result<Option<Heredoc>, ErrorKind> {
    let digits_len = word.bytes().take_while(u8::is_ascii_digit).count();
    let (digits, rest) = word.split_at(digits_len);
    let Some(rest) = rest.strip_prefix("<<") else {
        return Ok(None);
    };
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let delimiter = rest.trim_start_matches(is_regex_space);
    if delimiter.is_empty() || delimiter.contains('<') {
        return Ok(None);
    }
    // Lex the delimiter with and without quotes: if the quote counts differ, part of it was
    // quoted, and a quoted delimiter means the content is not expanded.
    let lexer = ShellLexer::new('\\').keep_unset_variables(true);
    let invalid = |reason| ErrorKind::InvalidHeredoc {
        word: word.to_owned(),
        reason,
    };
    let words = lexer
        .process_words(delimiter, &NoVariables)
        .map_err(|error| invalid(error.reason))?;
    let [name] = words.as_slice() else {
        return Ok(None);
    };
    let raw_words = lexer
        .keep_quotes(true)
        .process_words(delimiter, &NoVariables)
        .map_err(|error| invalid(error.reason))?;
    let [raw_name] = raw_words.as_slice() else {
        return Err(ErrorKind::AmbiguousHeredoc {
            word: word.to_owned(),
        });
    };
    let quotes = |text: &str| text.chars().filter(|ch| matches!(ch, '\'' | '"')).count();
    Ok(Some(Heredoc {
        name: name.clone(),
        // Like Go's ParseUint on overflow, an absurd descriptor saturates.
        file_descriptor: if digits.is_empty() {
            0
        } else {
            digits.parse().unwrap_or(u32::MAX)
        },
        expand: quotes(name) == quotes(raw_name),
        chomp,
        content: String::new(),
    }))
}

/// The heredocs that a (continued) instruction line opens, in order. A line the shell lexer
/// cannot split has none.
pub(crate) fn heredocs_from_line(line: &str) -> Result<Vec<Heredoc>, ErrorKind> {
    let lexer = ShellLexer::new('\\')
        .keep_quotes(true)
        .keep_escapes(true)
        .keep_unset_variables(true);
    let Ok(words) = lexer.process_words(line, &NoVariables) else {
        return Ok(Vec::new());
    };
    let mut heredocs = Vec::new();
    for word in &words {
        heredocs.extend(parse_heredoc_word(word)?);
    }
    Ok(heredocs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(line: &str) -> Vec<String> {
        heredocs_from_line(line)
            .unwrap()
            .into_iter()
            .map(|heredoc| heredoc.name)
            .collect()
    }

    #[test]
    fn heredoc_words() {
        for valid in [
            "<<EOF",
            "<<'EOF'",
            "<<\"EOF\"",
            "<<-EOF",
            "<<-'EOF'",
            "<<-\"EOF\"",
            "<<EO\"F\"",
            "<< EOF",
            "<<- EOF",
        ] {
            let heredoc = parse_heredoc_word(valid).unwrap().expect(valid);
            assert_eq!(heredoc.name, "EOF", "{valid}");
        }
        for invalid in ["<<'EOF", "<<\"EOF", "<<EOF'", "<<EOF\""] {
            assert!(parse_heredoc_word(invalid).is_err(), "{invalid}");
        }
        for not_heredoc in ["", "EOF", "<<", "<<-", "<EOF", "<<<EOF", "<<EOF sh"] {
            assert_eq!(
                parse_heredoc_word(not_heredoc).unwrap(),
                None,
                "{not_heredoc}"
            );
        }
    }

    #[test]
    fn quoting_decides_expansion() {
        let expand = |word: &str| parse_heredoc_word(word).unwrap().unwrap().expand;
        assert!(expand("<<eof"));
        assert!(expand(r"<<eo\'f"));
        assert!(!expand("<<eo'f'"));
        assert!(!expand(r"<<'e'o\'f"));
        assert!(!expand("<<'one two'"));
        assert_eq!(
            parse_heredoc_word(r"<<eo\'f").unwrap().unwrap().name,
            "eo'f"
        );
    }

    #[test]
    fn heredocs_on_a_line() {
        assert_eq!(names("RUN <<EOF"), ["EOF"]);
        // `<<-` keeps no blanks, so `<<- EOF` is two words and opens nothing, as in BuildKit.
        assert!(names("RUN <<- EOF").is_empty());
        assert_eq!(names("RUN <<  EOF  > foo"), ["EOF"]);
        assert_eq!(names("RUN << -EOF"), ["-EOF"]);
        assert_eq!(names("RUN 4<<EOF"), ["EOF"]);
        assert_eq!(names("RUN <<EOF <<EOF2"), ["EOF", "EOF2"]);
        assert_eq!(names("RUN <<$EOF"), ["$EOF"]);
        assert!(names("RUN '<<EOF'").is_empty());
        assert!(names("RUN \"<<EOF\"").is_empty());
        let fd = heredocs_from_line("RUN 3<<EOF").unwrap();
        assert_eq!(fd[0].file_descriptor, 3);
    }

    #[test]
    fn chomped_body() {
        let heredoc = Heredoc {
            name: "EOF".into(),
            file_descriptor: 0,
            expand: true,
            chomp: true,
            content: "\thello\n\t\tworld\n".into(),
        };
        assert_eq!(heredoc.body(), "hello\nworld\n");
    }
}
