//! What a statement declares and names (from the statement tables of
//! `ast::visit`), and a call's arguments: which kind each parameter
//! takes, whether an argument fits, what one written in place stands for.

use super::*;

/// The statement that declares what an anonymous argument of `kind` is,
/// for reading and checking it: `(level anonymous (s0 (c0)))`.
pub(super) fn anonymous_statement(
    kind: ParamKind,
    arg: &Value,
) -> Option<Result<Statement, String>> {
    let text = value_text(arg);
    let source = match kind {
        ParamKind::Level => format!("(level anonymous {text})"),
        ParamKind::LevelRange => format!("(levelrange anonymous {text})"),
        ParamKind::CategorySet => format!("(categoryset anonymous {text})"),
        ParamKind::IpAddr => format!(
            "(ipaddr anonymous {})",
            text.trim_start_matches('(').trim_end_matches(')')
        ),
        _ => return None,
    };
    Some(match crate::parse(&source) {
        Ok(mut p) if p.statements.len() == 1 => Ok(p.statements.remove(0)),
        Ok(_) => Err(format!("`{text}` is not one {}", kind.keyword())),
        Err(e) => Err(e.message()),
    })
}

/// Why libsepol refuses a call's arguments, and where: too few or too
/// many ("Missing arguments", "Unexpected arguments"), a list where the
/// parameter takes a name ("Invalid macro parameter"), a list that is not
/// a class permission for a `classpermission` parameter.
pub(super) fn bad_arguments(m: &Macro, call: &Call) -> Option<(String, Pointer)> {
    let (given, taken) = (call.args.len(), m.params.len());
    if given != taken {
        let what = if given < taken { "too few" } else { "too many" };
        return Some((
            format!(
                "`call {}` gives {given} argument{}, {what}: macro `{}` takes {taken}",
                call.name,
                if given == 1 { "" } else { "s" },
                m.name
            ),
            Pointer::Arg(0),
        ));
    }
    for (k, (param, arg)) in m.params.iter().zip(&call.args).enumerate() {
        let Value::List(_) = arg else { continue };
        let fits = match param.kind {
            ParamKind::ClassPermission => classperms_of(arg).is_some(),
            ParamKind::CategorySet
            | ParamKind::Level
            | ParamKind::LevelRange
            | ParamKind::IpAddr => match anonymous_statement(param.kind, arg) {
                Some(Err(why)) => {
                    return Some((
                        format!(
                            "argument `{}` of `call {}` is not a {}: {why}",
                            value_text(arg),
                            call.name,
                            param.kind.keyword()
                        ),
                        Pointer::Path(vec![2, k]),
                    ));
                }
                _ => true,
            },
            _ => false,
        };
        if !fits {
            let wanted = match param.kind {
                ParamKind::ClassPermission => "a class permission `(CLASS (PERM ...))` or a name",
                _ => "a name",
            };
            return Some((
                format!(
                    "argument `{}` of `call {}` is a list; parameter `{}` ({}) takes {wanted}",
                    value_text(arg),
                    call.name,
                    param.name,
                    param.kind.keyword()
                ),
                Pointer::Path(vec![2, k]),
            ));
        }
    }
    None
}

/// An anonymous class permission written as a call argument:
/// `(CLASS (PERM ...))` or `(CLASS (and (all) (not (PERM))))`.
pub(super) fn classperms_of(v: &Value) -> Option<ClassPerms> {
    let Value::List(items) = v else { return None };
    let [Value::Atom(class), perms @ Value::List(_)] = items.as_slice() else {
        return None;
    };
    Some(ClassPerms::Anonymous {
        class: Ref::new(class.as_str()).ok()?,
        perms: std::sync::Arc::new(expr_of(perms)?),
    })
}

/// A permission expression written as a list of values.
pub(super) fn expr_of(v: &Value) -> Option<Expr> {
    let Value::List(items) = v else { return None };
    let term = |v: &Value| -> Option<Term> {
        match v {
            Value::Atom(a) => Some(Term::Leaf(Ref::new(a.as_str()).ok()?)),
            list => Some(Term::Expr(Box::new(expr_of(list)?))),
        }
    };
    let operands = |n: usize| -> Option<Vec<Term>> {
        (items.len() == n + 1)
            .then(|| items[1..].iter().map(term).collect::<Option<Vec<_>>>())
            .flatten()
    };
    let op = match items.first() {
        Some(Value::Atom(a)) => a.as_str(),
        _ => "",
    };
    Some(match op {
        "all" if items.len() == 1 => Expr::All,
        "not" => {
            let [a] = <[Term; 1]>::try_from(operands(1)?).ok()?;
            Expr::Not(Box::new(a))
        }
        "and" | "or" | "xor" => {
            let [a, b] = <[Term; 2]>::try_from(operands(2)?).ok()?;
            let (a, b) = (Box::new(a), Box::new(b));
            match op {
                "and" => Expr::And(a, b),
                "or" => Expr::Or(a, b),
                _ => Expr::Xor(a, b),
            }
        }
        "all" => return None,
        _ => Expr::List(items.iter().map(term).collect::<Option<Vec<_>>>()?),
    })
}

/// A value as written, for messages.
pub(super) fn value_text(v: &Value) -> String {
    match v {
        Value::Atom(a) => a.as_str().to_string(),
        Value::List(items) => format!(
            "({})",
            items.iter().map(value_text).collect::<Vec<_>>().join(" ")
        ),
    }
}

/// What a statement declares: (table, kind, name). Names of containers
/// (blocks, macros, optionals) are not in symbol tables the resolver
/// keeps; the names come from the statement tables (`ast::visit`).
pub(super) fn declares(s: &Statement) -> Vec<(SymbolKind, DeclKind, &Name)> {
    struct Declared<'s>(Vec<(SymbolKind, &'s Name)>);
    impl<'s> Visit<'s> for Declared<'s> {
        fn declared(&mut self, name: &'s Name, kind: RefKind) {
            if let Some(k) = symbol_kind(kind)
                && !matches!(k, SymbolKind::Block | SymbolKind::Macro)
            {
                self.0.push((k, name));
            }
        }
    }
    if matches!(
        s,
        Statement::Block(_) | Statement::Macro(_) | Statement::Optional(_)
    ) {
        return Vec::new();
    }
    let mut found = Declared(Vec::new());
    s.names(RefKind::Type, &mut found);
    let what = match s {
        Statement::Type(_) => DeclKind::Type,
        Statement::TypeAttribute(_) => DeclKind::TypeAttribute,
        Statement::TypeAlias(_) => DeclKind::TypeAlias,
        Statement::Role(_) => DeclKind::Role,
        Statement::RoleAttribute(_) => DeclKind::RoleAttribute,
        Statement::User(_) => DeclKind::User,
        Statement::UserAttribute(_) => DeclKind::UserAttribute,
        Statement::Boolean(_) => DeclKind::Boolean,
        Statement::Tunable(_) => DeclKind::Tunable,
        Statement::Class(_) => DeclKind::Class,
        Statement::ClassMap(_) => DeclKind::ClassMap,
        Statement::Common(_) => DeclKind::Common,
        Statement::ClassPermission(_) => DeclKind::ClassPermission,
        _ => DeclKind::Other,
    };
    found.0.into_iter().map(|(k, n)| (k, what, n)).collect()
}

/// The symbol table names of a kind live in; `None` for permissions
/// (checked against their class), optionals and policy capabilities.
pub(super) fn symbol_kind(kind: RefKind) -> Option<SymbolKind> {
    Some(match kind {
        RefKind::Type => SymbolKind::Type,
        RefKind::Role => SymbolKind::Role,
        RefKind::User => SymbolKind::User,
        RefKind::Boolean => SymbolKind::Boolean,
        RefKind::Tunable => SymbolKind::Tunable,
        RefKind::Class => SymbolKind::Class,
        RefKind::Common => SymbolKind::Common,
        RefKind::ClassPermission => SymbolKind::ClassPermission,
        RefKind::Sensitivity => SymbolKind::Sensitivity,
        RefKind::Category => SymbolKind::Category,
        RefKind::Level => SymbolKind::Level,
        RefKind::LevelRange => SymbolKind::LevelRange,
        RefKind::Context => SymbolKind::Context,
        RefKind::Sid => SymbolKind::Sid,
        RefKind::IpAddr => SymbolKind::IpAddr,
        RefKind::PermissionX => SymbolKind::PermissionX,
        RefKind::Block => SymbolKind::Block,
        RefKind::Macro => SymbolKind::Macro,
        _ => return None,
    })
}

/// The names a statement refers to, into `out` (cleared first: one buffer
/// serves every statement), from the statement tables (`ast::visit`).
/// Blocks and macros are found by `blockinherit`, `in` and `call`
/// themselves.
pub(super) fn references<'s>(s: &'s Statement, out: &mut Vec<(SymbolKind, &'s str)>) {
    struct Referenced<'o, 's>(&'o mut Vec<(SymbolKind, &'s str)>);
    impl<'s> Visit<'s> for Referenced<'_, 's> {
        fn referenced(&mut self, name: &'s Ref, kind: RefKind) {
            if let Some(k) = symbol_kind(kind)
                && !matches!(k, SymbolKind::Block | SymbolKind::Macro)
            {
                self.0.push((k, name.as_str()));
            }
        }
    }
    out.clear();
    s.names(RefKind::Type, &mut Referenced(out));
}

/// The symbol table a named argument of a parameter of kind `param` is
/// looked up in; `None` for `string` and `name` (no declaration).
pub(super) fn param_symbol_kind(param: ParamKind) -> Option<SymbolKind> {
    Some(match param {
        ParamKind::Type => SymbolKind::Type,
        ParamKind::Role => SymbolKind::Role,
        ParamKind::User => SymbolKind::User,
        ParamKind::Boolean => SymbolKind::Boolean,
        ParamKind::Sensitivity => SymbolKind::Sensitivity,
        ParamKind::Category | ParamKind::CategorySet => SymbolKind::Category,
        ParamKind::Level => SymbolKind::Level,
        ParamKind::LevelRange => SymbolKind::LevelRange,
        ParamKind::Class | ParamKind::ClassMap => SymbolKind::Class,
        ParamKind::ClassPermission => SymbolKind::ClassPermission,
        ParamKind::IpAddr => SymbolKind::IpAddr,
        _ => return None,
    })
}

/// Whether a macro parameter of kind `param` stands for names of `kind`.
pub(super) fn param_fits(param: ParamKind, kind: SymbolKind) -> bool {
    matches!(
        (param, kind),
        (ParamKind::Type, SymbolKind::Type)
            | (ParamKind::Role, SymbolKind::Role)
            | (ParamKind::User, SymbolKind::User)
            | (ParamKind::Boolean, SymbolKind::Boolean)
            | (ParamKind::Sensitivity, SymbolKind::Sensitivity)
            | (
                ParamKind::Category | ParamKind::CategorySet,
                SymbolKind::Category
            )
            | (ParamKind::Level, SymbolKind::Level)
            | (ParamKind::LevelRange, SymbolKind::LevelRange)
            | (ParamKind::Class | ParamKind::ClassMap, SymbolKind::Class)
            | (ParamKind::ClassPermission, SymbolKind::ClassPermission)
            | (ParamKind::IpAddr, SymbolKind::IpAddr)
    )
}

pub(super) fn term_text(t: &Term) -> String {
    let mut p = crate::print::Printer::new();
    crate::parse::Arg::print(t, &mut p);
    p.finish()
}
