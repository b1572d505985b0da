//! Text a server chose (problem details, names in certificates), made safe to show.

use core::fmt::{self, Write as _};

/// Server text for a terminal or a log line: on one line, bounded in length, every
/// control character escaped (`\n`, `\u{1b}`, …), so that nothing a server says can
/// start a new log line, move a terminal's cursor or change its colours.
///
/// Problem documents' [`Display`](fmt::Display) go through it; so should anything else
/// a server chose before it is printed, such as the names in a certificate
/// ([`CertificateInfo`](crate::CertificateInfo)'s names are kept as the certificate
/// has them).
///
/// ```
/// use acme_proto::ServerText;
///
/// let shown = ServerText::new("evil\x1b[2J.example\nok").to_string();
/// assert_eq!(shown, "evil\\u{1b}[2J.example\\nok");
/// assert_eq!(ServerText::new(&"x".repeat(300)).to_string().chars().count(), 257);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ServerText<'a> {
    text: &'a str,
    max_chars: usize,
}

impl<'a> ServerText<'a> {
    /// Most characters shown by default (an escape counts as the characters it takes);
    /// the rest is cut, with `…`.
    pub const MAX_CHARS: usize = 256;

    /// `text`, shown in at most [`MAX_CHARS`](Self::MAX_CHARS) characters and `…`.
    pub fn new(text: &'a str) -> Self {
        Self::bounded(text, Self::MAX_CHARS)
    }

    /// `text`, shown in at most `max_chars` characters (an escape counts as the
    /// characters it takes) and `…`.
    pub fn bounded(text: &'a str, max_chars: usize) -> Self {
        Self { text, max_chars }
    }
}

impl fmt::Display for ServerText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut left = self.max_chars;
        for c in self.text.chars() {
            let escaped = c.is_control().then(|| c.escape_default());
            let len = escaped.as_ref().map_or(1, ExactSizeIterator::len);
            if len > left {
                return f.write_str("…");
            }
            left -= len;
            match escaped {
                Some(escaped) => write!(f, "{escaped}")?,
                None => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        let shown = ServerText::new("a\tb\r\nc\x1b[31m\u{9b}d\u{7f} é…").to_string();
        assert_eq!(shown, "a\\tb\\r\\nc\\u{1b}[31m\\u{9b}d\\u{7f} é…");
        assert!(!shown.chars().any(char::is_control));
    }

    #[test]
    fn long_text_is_cut() {
        assert_eq!(ServerText::bounded("abcdef", 3).to_string(), "abc…");
        assert_eq!(ServerText::bounded("abc", 3).to_string(), "abc");
        assert_eq!(ServerText::bounded("\n\n\n\n", 5).to_string(), "\\n\\n…");
        assert_eq!(ServerText::bounded("a\x1b", 6).to_string(), "a…");
        assert_eq!(ServerText::bounded("a\x1b", 7).to_string(), "a\\u{1b}");
    }
}
