//! HTML output: one escaping function, and a builder that applies it to every interpolation.
//!
//! Pages are built with [`h!`], a `format!` whose arguments are all passed through
//! [`Render`]: text (`&str`, `String`, numbers) is escaped with [`esc`], only an [`Html`]
//! value, itself built by `h!` from a literal, goes in as markup. So a complaint's text, an
//! officer's note or a value echoed back into a form cannot become markup. Write
//! interpolations positionally (`{}`), never as `{name}` captures, which `format!` would take
//! unescaped.

use std::borrow::Cow;

pub use ntbcare_platform::html::esc;

/// Markup that is safe to send: built only by [`h!`] from a literal and rendered arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Html(String);

impl Html {
    /// For [`h!`] only.
    #[doc(hidden)]
    pub fn __from_formatted(s: String) -> Html {
        Html(s)
    }

    pub fn empty() -> Html {
        Html(String::new())
    }

    /// Markup from a literal of the program (never from data: the type takes only `'static`).
    pub fn trusted(s: &'static str) -> Html {
        Html(s.to_string())
    }

    /// `markup` when `cond`, else nothing: for attributes such as ` checked`.
    pub fn when(cond: bool, markup: &'static str) -> Html {
        if cond {
            Html::trusted(markup)
        } else {
            Html::empty()
        }
    }

    pub fn push(&mut self, more: Html) {
        self.0.push_str(&more.0);
    }

    pub fn into_string(self) -> String {
        self.0
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromIterator<Html> for Html {
    fn from_iter<I: IntoIterator<Item = Html>>(iter: I) -> Html {
        let mut out = Html::empty();
        for h in iter {
            out.push(h);
        }
        out
    }
}

/// What may be interpolated into a page: escaped text, or markup already built.
pub trait Render {
    fn render(&self) -> Cow<'_, str>;
}

impl Render for Html {
    fn render(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.0)
    }
}

impl Render for str {
    fn render(&self) -> Cow<'_, str> {
        esc(self)
    }
}

impl Render for String {
    fn render(&self) -> Cow<'_, str> {
        esc(self)
    }
}

impl<T: Render + ?Sized> Render for &T {
    fn render(&self) -> Cow<'_, str> {
        (**self).render()
    }
}

impl<T: Render> Render for Option<T> {
    fn render(&self) -> Cow<'_, str> {
        match self {
            Some(t) => t.render(),
            None => Cow::Borrowed(""),
        }
    }
}

macro_rules! render_number {
    ($($t:ty),*) => {$(
        impl Render for $t {
            fn render(&self) -> Cow<'_, str> {
                Cow::Owned(self.to_string())
            }
        }
    )*};
}
render_number!(u8, u16, u32, u64, usize, i32, i64);

/// `format!` into [`Html`], every argument rendered (text escaped).
#[macro_export]
macro_rules! h {
    ($fmt:literal $(, $arg:expr)* $(,)?) => {
        $crate::html::Html::__from_formatted(format!($fmt $(, $crate::html::Render::render(&$arg))*))
    };
}

/// Percent-encode a query value or path segment.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(esc("<script>alert('x')</script>"), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
        assert_eq!(esc("a \"b\" & c"), "a &quot;b&quot; &amp; c");
        assert!(matches!(esc("plain text"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_builder_escapes_text_but_not_markup() {
        let evil = String::from("<img src=x onerror=alert(1)>");
        let inner = h!("<b>{}</b>", evil);
        let page = h!("<p title=\"{}\">{}</p>", "\"><script>", inner);
        assert_eq!(
            page.as_str(),
            "<p title=\"&quot;&gt;&lt;script&gt;\"><b>&lt;img src=x onerror=alert(1)&gt;</b></p>"
        );
        assert_eq!(h!("{}{}", Some(3u8), None::<String>).as_str(), "3");
    }

    #[test]
    fn url_encoding() {
        assert_eq!(url_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
