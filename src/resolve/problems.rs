//! What stops a policy: names that do not resolve, expansions refused,
//! and the optionals that drop, each as a diagnostic.

use super::*;

/// A name that does not resolve, outside any optional; or a statement
/// that cannot be expanded (`in` or `blockinherit` of no block, `call` of
/// no macro, expansions nested too deep).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unresolved {
    /// What kind of problem: [`Code::Unresolved`],
    /// [`Code::UnresolvedPermission`], [`Code::MissingBlock`],
    /// [`Code::MissingMacro`], [`Code::Recursive`] or [`Code::BadArgument`].
    pub code: Code,
    /// The name as written (for a permission, `CLASS.PERM` with the
    /// class's full name).
    pub name: String,
    /// What it should have been.
    pub kind: SymbolKind,
    /// The file.
    pub file: usize,
    /// The statement.
    pub span: Span,
    /// The token in the statement.
    pub pointer: Pointer,
    /// The calls, inherits and `in` statements that put the statement
    /// there, outermost first.
    pub via: Vec<Via>,
}

impl Unresolved {
    pub(super) fn new(
        code: Code,
        name: String,
        kind: SymbolKind,
        file: usize,
        span: Span,
    ) -> Unresolved {
        let pointer = match code {
            Code::Unresolved | Code::MissingBlock => Pointer::Atom(name.clone()),
            Code::MissingMacro => Pointer::Arg(0),
            _ => Pointer::Keyword,
        };
        Unresolved {
            code,
            name,
            kind,
            file,
            span,
            pointer,
            via: Vec::new(),
        }
    }

    /// What is wrong, in words.
    pub fn message(&self) -> String {
        match self.code {
            Code::UnresolvedPermission => match self.name.rsplit_once('.') {
                Some((class, perm)) => format!("class `{class}` has no permission `{perm}`"),
                None => format!("no permission `{}`", self.name),
            },
            Code::MissingBlock => format!("there is no block `{}`", self.name),
            Code::MissingMacro => format!("there is no macro `{}`", self.name),
            Code::Recursive => format!(
                "`{}` is inside its own expansion: libsepol refuses recursion",
                self.name
            ),
            Code::BadArgument | Code::Duplicate => self.name.clone(),
            _ => format!(
                "`{}` does not resolve ({} was expected)",
                self.name,
                self.kind.describe()
            ),
        }
    }

    /// The diagnostic: the token that does not resolve, and each call,
    /// inherit or `in` that put its statement there as a related place.
    pub fn to_diagnostic(&self) -> Diagnostic {
        let label = match (self.code, &self.pointer) {
            (Code::Unresolved, _) => "not declared",
            (Code::UnresolvedPermission, _) => "not a permission of this class",
            (Code::BadArgument, Pointer::Path(_)) => "this argument",
            (Code::BadArgument, _) => "called here",
            _ => "",
        };
        let mut d = Diagnostic::new(
            self.code,
            self.message(),
            Label::new(self.file, self.span, self.pointer.clone(), label),
        );
        for v in self.via.iter().rev() {
            let text = match v.what.strip_prefix("macro ") {
                Some(name) => format!("macro `{name}` is declared here"),
                None => format!("expanded by this `{}`", v.what),
            };
            let name = v.what.rsplit(' ').next().unwrap_or_default();
            d = d.related(Label::new(
                v.file,
                v.span,
                Pointer::Atom(name.to_string()),
                text,
            ));
        }
        d
    }

    /// `file:line:col: error[CODE]: message` and the source, against the
    /// text of its file (related places in other files are left out: use
    /// [`to_diagnostic`](Unresolved::to_diagnostic) with every file).
    pub fn render(&self, src: &str, file: &str) -> String {
        let mut d = self.to_diagnostic();
        d.primary.file = 0;
        let own = self.file;
        d.related.retain(|r| r.file == own);
        for r in &mut d.related {
            r.file = 0;
        }
        d.render(&[SourceFile::new(file, src)])
    }
}

impl OptionalBlock {
    /// For a dropped optional: a warning at the name that did not resolve,
    /// with the optional and the expansions that put the statement there
    /// as related places. `None` for an enabled optional.
    pub fn to_diagnostic(&self) -> Option<Diagnostic> {
        let at = self.disabled_at.as_ref()?;
        let mut d = at.to_diagnostic();
        d.code = Code::DroppedOptional;
        d.severity = Code::DroppedOptional.severity();
        d.message = format!(
            "optional `{}` would be dropped without a message: {}",
            self.name,
            at.message()
        );
        d.related.insert(
            0,
            Label::new(
                self.file,
                self.span,
                Pointer::Keyword,
                "this optional is dropped",
            ),
        );
        Some(d)
    }
}
