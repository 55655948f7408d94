//! The words of an action: names, fields and variables, quoted strings, `|`, `(`, `)`,
//! `,` and `:=`.

#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    Word(String),
    Str(String),
    Pipe,
    Open,
    Close,
    Comma,
    Declare,
    /// `.A.B` right after a `)`.
    Chain(String),
}

pub fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            _ if c.is_whitespace() => {
                chars.next();
            }
            '|' => {
                chars.next();
                tokens.push(Token::Pipe);
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
                if chars.peek() == Some(&'.') {
                    chars.next();
                    let mut path = String::new();
                    while let Some(&c) = chars
                        .peek()
                        .filter(|c| c.is_alphanumeric() || **c == '_' || **c == '.')
                    {
                        path.push(c);
                        chars.next();
                    }
                    tokens.push(Token::Chain(path));
                }
            }
            ',' => {
                chars.next();
                tokens.push(Token::Comma);
            }
            ':' => {
                chars.next();
                if chars.next() != Some('=') {
                    return Err("unexpected ':'".into());
                }
                tokens.push(Token::Declare);
            }
            '"' => {
                chars.next();
                let mut value = String::new();
                loop {
                    match chars.next() {
                        None => return Err("unterminated quoted string".into()),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('n') => value.push('\n'),
                            Some('t') => value.push('\t'),
                            Some(other) => value.push(other),
                            None => return Err("unterminated quoted string".into()),
                        },
                        Some(other) => value.push(other),
                    }
                }
                tokens.push(Token::Str(value));
            }
            '`' => {
                chars.next();
                let value: String = chars.by_ref().take_while(|c| *c != '`').collect();
                tokens.push(Token::Str(value));
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || "|(),:\"`".contains(c) {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}
