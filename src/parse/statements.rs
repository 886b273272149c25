//! Keyword dispatch, nesting rules, containers and irregular statements.

use super::args::{Arg, Flavor, term};
use super::{Cx, Nesting, SimpleStatement, line_mark, shape};
use crate::ast::names::NameKind;
use crate::ast::*;
use crate::error::{DResult, Diag, ErrorKind};
use crate::syntax::Kind;

pub(crate) fn simple<T: SimpleStatement + Into<Statement>>(
    cx: &Cx<'_, '_>,
    list: usize,
) -> DResult<Statement> {
    T::parse_args(cx, list).map(Into::into)
}

/// The enclosing container that forbids `keyword`, as secilc checks them.
pub(crate) fn forbidden_by(keyword: &str, nest: Nesting) -> Option<&'static str> {
    if nest.in_tunableif && keyword == "tunable" {
        return Some("tunableif");
    }
    if let Some(after) = nest.in_in {
        if matches!(keyword, "tunable" | "in") {
            return Some("in");
        }
        if after && matches!(keyword, "blockinherit" | "blockabstract") {
            return Some("in after");
        }
    }
    if nest.in_macro
        && matches!(
            keyword,
            "tunable" | "in" | "block" | "blockinherit" | "blockabstract" | "macro"
        )
    {
        return Some("macro");
    }
    if nest.in_optional
        && matches!(
            keyword,
            "tunable" | "in" | "block" | "blockabstract" | "macro"
        )
    {
        return Some("optional");
    }
    if nest.in_booleanif
        && !matches!(
            keyword,
            "tunableif"
                | "call"
                | "allow"
                | "dontaudit"
                | "auditallow"
                | "allowx"
                | "auditallowx"
                | "dontauditx"
                | "typetransition"
                | "typechange"
                | "typemember"
        )
    {
        return Some("booleanif");
    }
    None
}

/// One statement: the list at `list`.
pub(crate) fn statement(cx: &Cx<'_, '_>, list: usize, nest: Nesting) -> DResult<Statement> {
    let Some(first) = cx
        .children(list)
        .find(|&i| cx.node(i).kind != Kind::Comment)
    else {
        return Err(Diag::new(ErrorKind::EmptyStatement, cx.span(list)));
    };
    let keyword = match cx.node(first).kind {
        Kind::Symbol | Kind::Quoted => cx.text(first),
        Kind::LineMark => {
            return Err(Diag::new(ErrorKind::LineMarkInStatement, cx.span(first)));
        }
        _ => {
            return Err(Diag::new(
                ErrorKind::KeywordExpected {
                    found: cx.describe(first),
                },
                cx.span(first),
            ));
        }
    };
    if let Some(container) = forbidden_by(keyword, nest) {
        return Err(Diag::new(
            ErrorKind::NotAllowedIn {
                keyword: keyword.to_string(),
                container,
            },
            cx.span(list),
        ));
    }
    let s = dispatch(cx, list, nest, keyword, first)?;
    reserved_names(cx, list, keyword)?;
    Ok(s)
}

/// One statement, and after it the comments written inside its
/// parentheses (each knowing after which token it stood), so that no
/// comment is lost. A container's comments are those of its header; the
/// comments of its body are statements of the body.
pub(crate) fn statement_into(
    cx: &Cx<'_, '_>,
    list: usize,
    nest: Nesting,
    out: &mut Vec<Statement>,
) -> DResult<()> {
    let s = statement(cx, list, nest)?;
    // Most statements hold no comment: nothing more to do for them.
    if !cx.has_comment(list) {
        out.push(s);
        return Ok(());
    }
    let keyword = cx
        .children(list)
        .find(|&i| cx.node(i).kind != Kind::Comment)
        .and_then(|k| cx.atom(k))
        .unwrap_or_default();
    // Where the body starts (what follows the header, as the container's
    // parser reads it: comments there are the body's), and which child
    // lists are branches to pass over.
    let header_end = |n: usize| {
        cx.children(list)
            .filter(|&i| cx.node(i).kind != Kind::Comment)
            .nth(n - 1)
            .map_or(cx.skip(list), |last| cx.skip(last))
    };
    let (end, branches): (usize, bool) = match keyword {
        "block" | "optional" => (header_end(2), false),
        "macro" => (header_end(3), false),
        "in" => {
            let head: Vec<usize> = cx
                .children(list)
                .filter(|&i| cx.node(i).kind != Kind::Comment)
                .take(3)
                .collect();
            let positioned = head.len() == 3
                && matches!(cx.atom(head[1]), Some("before" | "after"))
                && !cx.is_list(head[2]);
            (header_end(if positioned { 3 } else { 2 }), false)
        }
        "booleanif" | "tunableif" => (cx.skip(list), true),
        _ => (cx.skip(list), false),
    };
    let at = out.len();
    out.push(s);
    let mut tokens = 1u32;
    let mut open: Vec<usize> = Vec::new();
    let mut i = list + 1;
    while i < end {
        while open.last().is_some_and(|&e| e <= i) {
            open.pop();
            tokens += 1;
        }
        let node = cx.node(i);
        match node.kind {
            Kind::Comment => {
                out.push(Statement::Comment(
                    Comment::parsed(cx.text(i), node.span).inside_after(tokens),
                ));
            }
            Kind::List { .. }
                if branches
                    && cx.children(list).any(|c| c == i)
                    && matches!(
                        cx.children(i)
                            .find(|&c| cx.node(c).kind != Kind::Comment)
                            .and_then(|c| cx.atom(c)),
                        Some("true" | "false")
                    ) =>
            {
                // A branch is a body: its comments are its statements'.
                i = cx.skip(i);
                continue;
            }
            Kind::List { .. } => {
                tokens += 1;
                open.push(cx.skip(i));
            }
            Kind::LineMark => {}
            Kind::Symbol | Kind::Quoted => tokens += 1,
        }
        i += 1;
    }
    if out.len() > at + 1 {
        clamp_inner_comments(&mut out[at..]);
    }
    Ok(())
}

/// The canonical text can have fewer tokens than the source (`(call m ())`
/// prints as `(call m)`): a comment anchored past the last place inside the
/// statement (or, for a container, inside its header) moves to that place,
/// so it still prints inside and reads back the same.
fn clamp_inner_comments(run: &mut [Statement]) {
    let (statement, comments) = run.split_first_mut().unwrap_or_else(|| unreachable!());
    let last_inside = match statement {
        Statement::Block(b) => {
            let mut header = b.clone();
            header.body.clear();
            crate::print::token_count(&Statement::Block(header)).saturating_sub(2)
        }
        Statement::Optional(o) => {
            let mut header = o.clone();
            header.body.clear();
            crate::print::token_count(&Statement::Optional(header)).saturating_sub(2)
        }
        Statement::In(x) => {
            let mut header = x.clone();
            header.body.clear();
            crate::print::token_count(&Statement::In(header)).saturating_sub(2)
        }
        Statement::Macro(m) => {
            let mut header = (**m).clone();
            header.body.clear();
            crate::print::token_count(&Statement::from(header)).saturating_sub(2)
        }
        Statement::Conditional(c) => {
            let mut header = (**c).clone();
            header.if_true = None;
            header.if_false = None;
            crate::print::token_count(&Statement::from(header)).saturating_sub(1)
        }
        other => crate::print::token_count(other).saturating_sub(1),
    }
    .max(1);
    for c in comments {
        if let Statement::Comment(c) = c
            && c.inside().is_some_and(|at| at > last_inside)
        {
            *c = c.clone().inside_after(last_inside);
        }
    }
}

/// The words libsepol reserves for the names a statement declares: a type
/// cannot be named `self`, a category `range`; a block or a macro can be
/// named `all`.
fn reserved_names(cx: &Cx<'_, '_>, list: usize, keyword: &str) -> DResult<()> {
    let check = |kind: NameKind, i: usize| match cx.atom(i) {
        Some(name) => kind
            .check(name)
            .map_err(|e| Diag::new(ErrorKind::Name(e), cx.span(i))),
        None => Ok(()),
    };
    if !matches!(keyword, "class" | "common" | "classmap" | "macro") {
        let kind = NameKind::of_keyword(keyword);
        // The declared name: the second item, comments aside (the
        // statement's own parse has checked its items already).
        if kind != NameKind::Other
            && let Some(name) = cx
                .children(list)
                .filter(|&i| cx.node(i).kind != Kind::Comment)
                .nth(1)
        {
            check(kind, name)?;
        }
        return Ok(());
    }
    let items = cx.items(list)?;
    match keyword {
        "class" | "common" | "classmap" => {
            if let Some(&perms) = items.get(2).filter(|&&p| cx.is_list(p)) {
                for &p in cx.items(perms)?.iter() {
                    check(NameKind::Permission, p)?;
                }
            }
        }
        "macro" => {
            if let Some(&params) = items.get(2).filter(|&&p| cx.is_list(p)) {
                for &param in cx.items(params)?.iter() {
                    let pair = cx.items(param)?;
                    let kind = match pair.first().and_then(|&k| cx.atom(k)) {
                        Some("type") => NameKind::Type,
                        Some("role") => NameKind::Role,
                        Some("user") => NameKind::User,
                        Some("category" | "categoryset") => NameKind::Category,
                        Some("bool" | "boolean") => NameKind::Boolean,
                        _ => NameKind::Other,
                    };
                    if let Some(&name) = pair.get(1) {
                        check(kind, name)?;
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn dispatch(
    cx: &Cx<'_, '_>,
    list: usize,
    nest: Nesting,
    keyword: &str,
    first: usize,
) -> DResult<Statement> {
    match keyword {
        "block" => block(cx, list, nest),
        "in" => in_statement(cx, list, nest),
        "optional" => optional(cx, list, nest),
        "macro" => macro_statement(cx, list, nest),
        "booleanif" => conditional(cx, list, nest, CondKind::Boolean),
        "tunableif" => conditional(cx, list, nest, CondKind::Tunable),
        _ => leaf(cx, list, first, keyword),
    }
}

/// Every statement that holds no statements. Kept out of [`statement`] so
/// the recursion through containers carries only a small frame.
#[inline(never)]
fn leaf(cx: &Cx<'_, '_>, list: usize, first: usize, keyword: &str) -> DResult<Statement> {
    match keyword {
        "allow" | "auditallow" | "dontaudit" | "neverallow" | "deny" => av_rule(cx, list, keyword),
        "allowx" | "auditallowx" | "dontauditx" | "neverallowx" => av_rule_x(cx, list, keyword),
        "typetransition" => type_transition(cx, list),
        "common" => {
            let s = simple::<Common>(cx, list)?;
            checked_list(cx, list, 2, "at least one permission")?;
            Ok(s)
        }
        "classorder" => class_order(cx, list),
        "call" => call(cx, list),
        "sensitivityorder" => {
            let s = simple::<SensitivityOrder>(cx, list)?;
            checked_list(cx, list, 1, "at least one sensitivity")?;
            Ok(s)
        }
        "categoryorder" => {
            let s = simple::<CategoryOrder>(cx, list)?;
            checked_list(cx, list, 1, "at least one category")?;
            Ok(s)
        }
        "categoryset" => {
            list_arg(cx, list, 2, "a category list, such as (c0 c1)")?;
            simple::<CategorySet>(cx, list)
        }
        // A declaration spells its value out: secilc refuses a name here.
        "level" => {
            list_arg(cx, list, 2, "a level, such as (s0 (c0))")?;
            simple::<LevelDecl>(cx, list)
        }
        "levelrange" => {
            list_arg(
                cx,
                list,
                2,
                "a level range (LOW HIGH), such as ((s0) (s0 (c0)))",
            )?;
            simple::<LevelRangeDecl>(cx, list)
        }
        "context" => {
            list_arg(cx, list, 2, "a context (USER ROLE TYPE RANGE)")?;
            simple::<ContextDecl>(cx, list)
        }
        "constrain" | "mlsconstrain" => {
            let s = if keyword == "constrain" {
                simple::<Constrain>(cx, list)?
            } else {
                simple::<MlsConstrain>(cx, list)?
            };
            if let Some(&expr) = cx.items(list)?.get(2)
                && let Some(leaf) = super::values::validatetrans_only(cx, expr)?
            {
                return Err(Diag::new(
                    ErrorKind::Invalid(
                        "u3, r3 and t3 can only be used in validatetrans and mlsvalidatetrans"
                            .into(),
                    ),
                    cx.span(leaf),
                ));
            }
            Ok(s)
        }
        "sidorder" => {
            let s = simple::<SidOrder>(cx, list)?;
            checked_list(cx, list, 1, "at least one SID")?;
            Ok(s)
        }
        "defaultrange" => super::values::default_range(cx, list),
        "filecon" => super::values::filecon(cx, list),
        "genfscon" => super::values::genfscon(cx, list),
        "true" | "false" => Err(Diag::new(
            ErrorKind::Invalid(format!(
                "a `({keyword} ...)` branch belongs directly inside `booleanif` or `tunableif`"
            )),
            cx.span(list),
        )),
        // Fixed-shape statements are read through the statement table.
        _ => crate::ast::parse_fixed_types_and_classes(keyword, cx, list)
            .or_else(|| crate::ast::parse_fixed_users_and_mls(keyword, cx, list))
            .or_else(|| crate::ast::parse_fixed_labeling(keyword, cx, list))
            .or_else(|| crate::ast::parse_fixed_numbered_labeling(keyword, cx, list))
            .unwrap_or_else(|| {
                Err(Diag::new(
                    ErrorKind::UnknownKeyword {
                        keyword: keyword.to_string(),
                    },
                    cx.span(first),
                ))
            }),
    }
}

fn av_rule(cx: &Cx<'_, '_>, list: usize, keyword: &str) -> DResult<Statement> {
    let kind = AvKind::from_keyword(keyword).unwrap_or(AvKind::Allow);
    let mut args = cx.args(list, kind.keyword(), av_usage(kind), &[false; 3])?;
    Ok(Statement::from(AvRule {
        kind,
        source: args.next_arg(cx)?,
        target: args.next_arg(cx)?,
        classperms: args.next_arg(cx)?,
        span: cx.span(list),
    }))
}

fn av_usage(kind: AvKind) -> &'static str {
    match kind {
        AvKind::Allow => "(allow SOURCE TARGET CLASSPERMS)",
        AvKind::AuditAllow => "(auditallow SOURCE TARGET CLASSPERMS)",
        AvKind::DontAudit => "(dontaudit SOURCE TARGET CLASSPERMS)",
        AvKind::NeverAllow => "(neverallow SOURCE TARGET CLASSPERMS)",
        AvKind::Deny => "(deny SOURCE TARGET CLASSPERMS)",
    }
}

fn av_rule_x(cx: &Cx<'_, '_>, list: usize, keyword: &str) -> DResult<Statement> {
    let kind = AvxKind::from_keyword(keyword).unwrap_or(AvxKind::Allow);
    let usage = match kind {
        AvxKind::Allow => "(allowx SOURCE TARGET PERMISSIONX)",
        AvxKind::AuditAllow => "(auditallowx SOURCE TARGET PERMISSIONX)",
        AvxKind::DontAudit => "(dontauditx SOURCE TARGET PERMISSIONX)",
        AvxKind::NeverAllow => "(neverallowx SOURCE TARGET PERMISSIONX)",
    };
    let mut args = cx.args(list, kind.keyword(), usage, &[false; 3])?;
    Ok(Statement::from(AvRuleX {
        kind,
        source: args.next_arg(cx)?,
        target: args.next_arg(cx)?,
        permx: args.next_arg(cx)?,
        span: cx.span(list),
    }))
}

fn type_transition(cx: &Cx<'_, '_>, list: usize) -> DResult<Statement> {
    const USAGE: &str = "(typetransition SOURCE TARGET CLASS [\"OBJECT_NAME\"] RESULT)";
    let items = cx.items(list)?;
    let n = items.len() - 1;
    if !(4..=5).contains(&n) {
        return Err(shape("typetransition", USAGE, n, cx.span(list)));
    }
    Ok(Statement::from(TypeTransition {
        source: Ref::parse(cx, items[1])?,
        target: Ref::parse(cx, items[2])?,
        class: Ref::parse(cx, items[3])?,
        object_name: if n == 5 {
            Some(QString::parse(cx, items[4])?)
        } else {
            None
        },
        result: Ref::parse(cx, items[n])?,
        span: cx.span(list),
    }))
}

fn class_order(cx: &Cx<'_, '_>, list: usize) -> DResult<Statement> {
    const USAGE: &str = "(classorder ([unordered] CLASS...))";
    let items = cx.items(list)?;
    if items.len() != 2 {
        return Err(shape("classorder", USAGE, items.len() - 1, cx.span(list)));
    }
    let mut classes: Vec<Ref> = Vec::parse(cx, items[1])?;
    let unordered = classes.first().is_some_and(|c| c.as_str() == "unordered");
    if unordered {
        classes.remove(0);
    }
    if classes.is_empty() {
        return Err(cx.expected("at least one class", items[1]));
    }
    Ok(Statement::from(ClassOrder {
        unordered,
        classes,
        span: cx.span(list),
    }))
}

/// The first `n` non-comment children (the keyword and header arguments)
/// and the index of the child where the body starts. Comments inside the
/// header are dropped; comments in the body are kept.
fn header(cx: &Cx<'_, '_>, list: usize, n: usize) -> DResult<(Vec<usize>, usize)> {
    let mut head = Vec::with_capacity(n);
    let end = cx.skip(list);
    let mut i = list + 1;
    while i < end && head.len() < n {
        match cx.node(i).kind {
            Kind::Comment => {}
            Kind::LineMark => return Err(Diag::new(ErrorKind::LineMarkInStatement, cx.span(i))),
            _ => head.push(i),
        }
        i = cx.skip(i);
    }
    Ok((head, i))
}

/// Whether a body holds a statement: comments and line marks are not in
/// libsepol's tree, so a body of only those is empty there.
fn has_statement(body: &[Statement]) -> bool {
    body.iter()
        .any(|s| !matches!(s, Statement::Comment(_) | Statement::LineMark(_)))
}

/// `(KEYWORD ... (ITEMS...))` whose list argument at `arg` must not be
/// empty and, but in classorder, must not say `unordered`.
fn checked_list(cx: &Cx<'_, '_>, list: usize, arg: usize, what: &'static str) -> DResult<()> {
    let items = cx.items(list)?;
    let Some(&l) = items.get(arg) else {
        return Ok(());
    };
    if !cx.is_list(l) {
        return Ok(());
    }
    let inner = cx.items(l)?;
    if inner.is_empty() {
        return Err(Diag::new(
            ErrorKind::Invalid(format!("empty list: expected {what}")),
            cx.span(l),
        ));
    }
    if let Some(&u) = inner.iter().find(|&&i| cx.atom(i) == Some("unordered")) {
        return Err(Diag::new(
            ErrorKind::Invalid(format!(
                "`unordered` is allowed only in classorder, not in `{}`",
                cx.atom(items[0]).unwrap_or_default()
            )),
            cx.span(u),
        ));
    }
    Ok(())
}

/// The argument at `arg` must be a parenthesized list (libsepol refuses a
/// bare name there even where a name would make sense).
fn list_arg(cx: &Cx<'_, '_>, list: usize, arg: usize, what: &'static str) -> DResult<()> {
    match cx.items(list)?.get(arg) {
        Some(&a) if !cx.is_list(a) => Err(cx.expected(what, a)),
        _ => Ok(()),
    }
}

/// Container contents from child `start` to the end of `list`.
fn body(cx: &Cx<'_, '_>, list: usize, start: usize, nest: Nesting) -> DResult<Vec<Statement>> {
    let end = cx.skip(list);
    let mut count = 0;
    let mut i = start;
    while i < end {
        count += 1;
        i = cx.skip(i);
    }
    let mut out = Vec::with_capacity(count);
    let mut i = start;
    while i < end {
        let node = cx.node(i);
        match node.kind {
            Kind::List { .. } => statement_into(cx, i, nest, &mut out)?,
            Kind::Comment => out.push(Statement::Comment(Comment::parsed(cx.text(i), node.span))),
            Kind::LineMark => out.push(Statement::LineMark(line_mark(cx.text(i), node.span)?)),
            Kind::Symbol | Kind::Quoted => return Err(cx.expected("a statement", i)),
        }
        i = cx.skip(i);
    }
    Ok(out)
}

/// Checks that a container has its header and no stray atoms before its
/// body (an atom in the body is reported by [`body`]).
fn container_head(
    cx: &Cx<'_, '_>,
    list: usize,
    n: usize,
    keyword: &'static str,
    usage: &'static str,
) -> DResult<(Vec<usize>, usize)> {
    let (head, start) = header(cx, list, n)?;
    if head.len() < n {
        return Err(shape(
            keyword,
            usage,
            head.len().saturating_sub(1),
            cx.span(list),
        ));
    }
    Ok((head, start))
}

fn block(cx: &Cx<'_, '_>, list: usize, nest: Nesting) -> DResult<Statement> {
    let (head, start) = container_head(cx, list, 2, "block", "(block NAME STATEMENTS...)")?;
    Ok(Statement::from(Block {
        name: Name::parse(cx, head[1])?,
        body: body(cx, list, start, nest)?,
        span: cx.span(list),
    }))
}

fn optional(cx: &Cx<'_, '_>, list: usize, nest: Nesting) -> DResult<Statement> {
    let (head, start) = container_head(cx, list, 2, "optional", "(optional NAME STATEMENTS...)")?;
    let inner = Nesting {
        in_optional: true,
        ..nest
    };
    Ok(Statement::from(Optional {
        name: Name::parse(cx, head[1])?,
        body: body(cx, list, start, inner)?,
        span: cx.span(list),
    }))
}

fn in_statement(cx: &Cx<'_, '_>, list: usize, nest: Nesting) -> DResult<Statement> {
    const USAGE: &str = "(in [before|after] CONTAINER STATEMENTS...)";
    container_head(cx, list, 2, "in", USAGE)?;
    // `(in before X ...)` names a position only when a container name
    // follows; otherwise `before` is the container.
    let (head, start) = header(cx, list, 3)?;
    let position = match cx.atom(head[1]) {
        Some("before") => Some(InPosition::Before),
        Some("after") => Some(InPosition::After),
        _ => None,
    }
    .filter(|_| head.len() == 3 && !cx.is_list(head[2]));
    let (container, start) = match position {
        Some(_) => (head[2], start),
        None => (head[1], header(cx, list, 2)?.1),
    };
    let inner = Nesting {
        in_in: Some(position == Some(InPosition::After)),
        ..nest
    };
    let body = body(cx, list, start, inner)?;
    // libsepol wants a third element: a container after `before`/`after`,
    // or a statement.
    if position.is_none() && !has_statement(&body) {
        return Err(Diag::new(
            ErrorKind::Invalid(format!(
                "`in` needs statements after the container: {USAGE}"
            )),
            cx.span(list),
        ));
    }
    Ok(Statement::from(In {
        position,
        container: Ref::parse(cx, container)?,
        body,
        span: cx.span(list),
    }))
}

fn macro_statement(cx: &Cx<'_, '_>, list: usize, nest: Nesting) -> DResult<Statement> {
    const USAGE: &str = "(macro NAME ((KIND PARAM)...) STATEMENTS...)";
    let (head, start) = container_head(cx, list, 3, "macro", USAGE)?;
    let name = Name::parse(cx, head[1])?;
    if !cx.is_list(head[2]) {
        return Err(cx.expected("a parameter list ((KIND NAME)...)", head[2]));
    }
    let mut params: Vec<Param> = Vec::new();
    for &p in cx.items(head[2])?.iter() {
        let pair = if cx.is_list(p) {
            cx.items(p)?
        } else {
            Default::default()
        };
        let [kind, pname] = &*pair else {
            return Err(cx.expected("a parameter (KIND NAME)", p));
        };
        let kind = cx
            .atom(*kind)
            .and_then(ParamKind::from_keyword)
            .ok_or_else(|| {
                Diag::new(
                    ErrorKind::Invalid(format!(
                        "unknown macro parameter kind {}; expected one of {}",
                        cx.describe(*kind),
                        ParamKind::ALL.map(ParamKind::keyword).join(" ")
                    )),
                    cx.span(*kind),
                )
            })?;
        let pname = Name::parse(cx, *pname)?;
        if params.iter().any(|q| q.name == pname) {
            return Err(Diag::new(
                ErrorKind::Invalid(format!("duplicate macro parameter `{pname}`")),
                cx.span(p),
            ));
        }
        params.push(Param { kind, name: pname });
    }
    let inner = Nesting {
        in_macro: true,
        ..nest
    };
    Ok(Statement::from(Macro {
        name,
        params,
        body: body(cx, list, start, inner)?,
        span: cx.span(list),
    }))
}

fn call(cx: &Cx<'_, '_>, list: usize) -> DResult<Statement> {
    const USAGE: &str = "(call MACRO [(ARGS...)])";
    let items = cx.items(list)?;
    if !(2..=3).contains(&items.len()) {
        return Err(shape("call", USAGE, items.len() - 1, cx.span(list)));
    }
    let args = match items.get(2) {
        Some(&a) if cx.is_list(a) => Vec::parse(cx, a)?,
        Some(&a) => return Err(cx.expected("a parenthesized argument list", a)),
        None => Vec::new(),
    };
    Ok(Statement::from(Call {
        name: Ref::parse(cx, items[1])?,
        args,
        span: cx.span(list),
    }))
}

fn conditional(cx: &Cx<'_, '_>, list: usize, nest: Nesting, kind: CondKind) -> DResult<Statement> {
    let usage = match kind {
        CondKind::Boolean => "(booleanif CONDITION (true ...) [(false ...)])",
        CondKind::Tunable => "(tunableif CONDITION (true ...) [(false ...)])",
    };
    let items = cx.items(list)?;
    if !(3..=4).contains(&items.len()) {
        return Err(shape(kind.keyword(), usage, items.len() - 1, cx.span(list)));
    }
    let condition = term(cx, items[1], Flavor::Bool)?;
    let inner = nest.in_conditional(kind);
    let mut if_true = None;
    let mut if_false = None;
    for &b in &items[2..] {
        let (head, start) = header(cx, b, 1)?;
        let which = match head.first().and_then(|&h| cx.atom(h)) {
            Some("true") if cx.is_list(b) => &mut if_true,
            Some("false") if cx.is_list(b) => &mut if_false,
            _ => return Err(cx.expected("a `(true ...)` or `(false ...)` branch", b)),
        };
        if which.is_some() {
            return Err(Diag::new(
                ErrorKind::Invalid(format!(
                    "`{}` has two branches of the same value",
                    kind.keyword()
                )),
                cx.span(b),
            ));
        }
        let branch = body(cx, b, start, inner)?;
        if !has_statement(&branch) {
            return Err(Diag::new(
                ErrorKind::Invalid(format!(
                    "a `{}` branch of `{}` needs at least one statement",
                    cx.atom(head[0]).unwrap_or_default(),
                    kind.keyword()
                )),
                cx.span(b),
            ));
        }
        *which = Some(branch);
    }
    Ok(Statement::from(Conditional {
        kind,
        condition,
        if_true,
        if_false,
        span: cx.span(list),
    }))
}
