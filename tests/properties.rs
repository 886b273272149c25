//! Property tests: names, generated ASTs round-trip through print and parse,
//! and no input makes the parser panic or overflow the stack.

use cilgen::ast::*;
use cilgen::{Name, Policy, QString, Ref, Span, Statement};
use proptest::prelude::*;
use proptest::strategy::Union;

/// Every valid golden input, as one text to mutate.
fn corpus() -> &'static str {
    static CORPUS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CORPUS.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/valid/input");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect()
    })
}

/// 512 cases, or `PROPTEST_CASES` for a longer run.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(512)
}

const RESERVED: [&str; 11] = [
    "and", "or", "xor", "not", "all", "eq", "neq", "range", "self", "notself", "other",
];

/// The rule for declared names, written independently of the crate: the
/// words reserved for some kinds of names are checked by kind, not here.
fn is_valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 2047
        && b[0].is_ascii_alphabetic()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
}

fn name_text() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9_-]{0,12}".prop_filter("reserved or contextual keyword", |s| {
        !RESERVED.contains(&s.as_str())
            && !["unordered", "true", "false", "before", "after"].contains(&s.as_str())
    })
}

fn name() -> impl Strategy<Value = Name> {
    name_text().prop_map(|s| Name::new(s).unwrap())
}

fn reference() -> impl Strategy<Value = Ref> {
    prop_oneof![
        4 => name_text().prop_map(|s| Ref::new(s).unwrap()),
        1 => (name_text(), name_text()).prop_map(|(a, b)| Ref::new(format!("{a}.{b}")).unwrap()),
        1 => name_text().prop_map(|a| Ref::new(format!(".{a}")).unwrap()),
        1 => Just(Ref::new("self").unwrap()),
    ]
}

fn qstring() -> impl Strategy<Value = QString> {
    "[^\"\n\0]{0,16}".prop_map(|s| QString::new(s).unwrap())
}

fn set_expr() -> impl Strategy<Value = Expr> {
    let leaf = prop::collection::vec(reference().prop_map(Term::Leaf), 1..4).prop_map(Expr::List);
    leaf.prop_recursive(4, 24, 3, |inner| {
        let term = prop_oneof![
            reference().prop_map(Term::Leaf),
            inner.clone().prop_map(Term::from)
        ];
        prop_oneof![
            prop::collection::vec(term.clone(), 1..4).prop_map(Expr::List),
            term.clone().prop_map(|t| Expr::Not(Box::new(t))),
            (term.clone(), term.clone()).prop_map(|(a, b)| Expr::And(Box::new(a), Box::new(b))),
            (term.clone(), term.clone()).prop_map(|(a, b)| Expr::Or(Box::new(a), Box::new(b))),
            (term.clone(), term).prop_map(|(a, b)| Expr::Xor(Box::new(a), Box::new(b))),
            Just(Expr::All),
        ]
    })
}

fn set_term() -> impl Strategy<Value = Term> {
    prop_oneof![
        reference().prop_map(Term::Leaf),
        set_expr().prop_map(Term::from)
    ]
}

fn bool_term() -> impl Strategy<Value = Term> {
    let leaf = reference().prop_map(Term::Leaf);
    leaf.prop_recursive(3, 12, 2, |t| {
        prop_oneof![
            t.clone().prop_map(|a| Term::from(Expr::Not(Box::new(a)))),
            (t.clone(), t.clone())
                .prop_map(|(a, b)| Term::from(Expr::And(Box::new(a), Box::new(b)))),
            (t.clone(), t.clone())
                .prop_map(|(a, b)| Term::from(Expr::Eq(Box::new(a), Box::new(b)))),
            (t.clone(), t).prop_map(|(a, b)| Term::from(Expr::Neq(Box::new(a), Box::new(b)))),
        ]
    })
}

fn permx_value() -> impl Strategy<Value = PermxValue> {
    (
        any::<u16>(),
        prop_oneof![Just(Radix::Decimal), Just(Radix::Hex), Just(Radix::Octal)],
    )
        .prop_map(|(value, radix)| PermxValue { value, radix })
}

fn permx_expr() -> impl Strategy<Value = Expr<PermxValue>> {
    prop_oneof![
        prop::collection::vec(permx_value().prop_map(Term::Leaf), 1..4).prop_map(Expr::List),
        (permx_value(), permx_value()).prop_map(|(a, b)| Expr::Range(a, b)),
        permx_value()
            .prop_map(|v| Expr::Not(Box::new(Term::from(Expr::List(vec![Term::Leaf(v)]))))),
    ]
}

fn classperms() -> impl Strategy<Value = ClassPerms> {
    prop_oneof![
        1 => reference().prop_map(ClassPerms::Named),
        4 => (reference(), set_expr()).prop_map(|(class, perms)| ClassPerms::Anonymous { class, perms: std::sync::Arc::new(perms) }),
    ]
}

fn av_kind() -> impl Strategy<Value = AvKind> {
    prop_oneof![
        Just(AvKind::Allow),
        Just(AvKind::AuditAllow),
        Just(AvKind::DontAudit),
        Just(AvKind::NeverAllow),
        Just(AvKind::Deny)
    ]
}

fn value() -> impl Strategy<Value = Value> {
    qstring()
        .prop_map(Value::Atom)
        .prop_recursive(3, 12, 3, |v| {
            prop::collection::vec(v, 0..3).prop_map(Value::List)
        })
}

fn level() -> impl Strategy<Value = Level> {
    let cats = prop_oneof![
        reference().prop_map(Term::Leaf),
        prop::collection::vec(reference().prop_map(Term::Leaf), 1..3)
            .prop_map(|v| Term::from(Expr::List(v))),
        (reference(), reference())
            .prop_map(|(a, b)| Term::from(Expr::List(vec![Term::from(Expr::Range(a, b))]))),
    ];
    prop_oneof![
        reference().prop_map(Level::Named),
        (reference(), prop::option::of(cats.prop_map(Categories))).prop_map(
            |(sensitivity, categories)| Level::Anonymous {
                sensitivity,
                categories
            }
        ),
    ]
}

fn level_range() -> impl Strategy<Value = LevelRange> {
    prop_oneof![
        reference().prop_map(LevelRange::Named),
        (level(), level()).prop_map(|(low, high)| LevelRange::Anonymous { low, high }),
    ]
}

fn context() -> impl Strategy<Value = Context> {
    prop_oneof![
        reference().prop_map(Context::Named),
        (reference(), reference(), reference(), level_range()).prop_map(
            |(user, role, ty, range)| Context::Anonymous {
                user,
                role,
                ty,
                range
            }
        ),
    ]
}

/// Whether libsepol accepts the pair (its leaf rules); u3, r3 and t3 on the
/// left only with names on the right, and only in validatetrans.
fn valid_leaf(op: CompareOp, left: Operand, right: Option<Operand>, validatetrans: bool) -> bool {
    use Operand::*;
    let equality = matches!(op, CompareOp::Eq | CompareOp::Neq);
    match right {
        None => {
            !matches!(left, L1 | L2 | H1 | H2) && (validatetrans || !matches!(left, U3 | R3 | T3))
        }
        Some(r) => match r {
            U1 | R1 | T1 | U3 | R3 | T3 => false,
            U2 => equality && left == U1,
            R2 => left == R1,
            T2 => equality && left == T1,
            L2 => matches!(left, L1 | H1),
            H2 => matches!(left, L1 | L2 | H1),
            H1 => left == L1,
            L1 => true,
        },
    }
}

fn constraint_expr(validatetrans: bool) -> impl Strategy<Value = ConstraintExpr> {
    let ops = [
        CompareOp::Eq,
        CompareOp::Neq,
        CompareOp::Dom,
        CompareOp::DomBy,
        CompareOp::Incomp,
    ];
    let name = || {
        name_text()
            .prop_filter("operand keyword", |s| Operand::from_keyword(s).is_none())
            .prop_map(|n| Ref::new(n).unwrap())
    };
    let mut with_operand = Vec::new();
    let mut with_names = Vec::new();
    for op in ops {
        for left in Operand::ALL {
            if valid_leaf(op, left, None, validatetrans) {
                with_names.push((op, left));
            }
            for right in Operand::ALL {
                if valid_leaf(op, left, Some(right), validatetrans) {
                    with_operand.push((op, left, right));
                }
            }
        }
    }
    let names = prop_oneof![
        name().prop_map(Rhs::Name),
        prop::collection::vec(name(), 1..3).prop_map(Rhs::Names),
    ];
    let leaf = prop_oneof![
        prop::sample::select(with_operand).prop_map(|(op, left, right)| {
            ConstraintExpr::Compare {
                op,
                left,
                right: Rhs::Operand(right),
            }
        }),
        (prop::sample::select(with_names), names)
            .prop_map(|((op, left), right)| ConstraintExpr::Compare { op, left, right }),
    ];
    leaf.prop_recursive(3, 12, 2, |e| {
        prop_oneof![
            (e.clone(), e.clone()).prop_map(|(a, b)| ConstraintExpr::And(Box::new(a), Box::new(b))),
            (e.clone(), e.clone()).prop_map(|(a, b)| ConstraintExpr::Or(Box::new(a), Box::new(b))),
            e.prop_map(|a| ConstraintExpr::Not(Box::new(a))),
        ]
    })
}

fn number_range(max: u64, hex: bool) -> impl Strategy<Value = NumberRange> {
    let radix = if hex {
        prop_oneof![Just(Radix::Decimal), Just(Radix::Hex), Just(Radix::Octal)].boxed()
    } else {
        Just(Radix::Decimal).boxed()
    };
    (0..=max, 0..=max, radix, any::<bool>()).prop_map(|(a, b, radix, single)| {
        let n = |value| Number { value, radix };
        if single {
            NumberRange::Single(n(a))
        } else {
            NumberRange::Range(n(a.min(b)), n(a.max(b)))
        }
    })
}

/// Statements of the MLS, context, constraint and labeling families.
fn labeling_statement() -> impl Strategy<Value = Statement> {
    let d = Span::DUMMY;
    Union::new(vec![
        (reference(), level())
            .prop_map(move |(user, level)| {
                UserLevel {
                    user,
                    level,
                    span: d,
                }
                .into()
            })
            .boxed(),
        (qstring().prop_map(Word), reference(), level_range())
            .prop_map(move |(name, user, range)| {
                SelinuxUser {
                    name,
                    user,
                    range,
                    span: d,
                }
                .into()
            })
            .boxed(),
        // A named context declares its context in full (libsepol refuses a
        // bare name there).
        (
            name(),
            context().prop_filter("anonymous", |c| matches!(c, Context::Anonymous { .. })),
        )
            .prop_map(move |(name, context)| {
                ContextDecl {
                    name,
                    context,
                    span: d,
                }
                .into()
            })
            .boxed(),
        (reference(), reference(), reference(), level_range())
            .prop_map(move |(source, target, class, range)| {
                RangeTransition {
                    source,
                    target,
                    class,
                    range,
                    span: d,
                }
                .into()
            })
            .boxed(),
        (classperms(), constraint_expr(false))
            .prop_map(move |(classperms, expr)| {
                MlsConstrain {
                    classperms,
                    expr,
                    span: d,
                }
                .into()
            })
            .boxed(),
        (reference(), constraint_expr(true))
            .prop_map(move |(class, expr)| {
                ValidateTrans {
                    class,
                    expr,
                    span: d,
                }
                .into()
            })
            .boxed(),
        (
            prop::collection::vec(reference(), 1..3),
            prop::sample::select(RangeDefault::ALL.to_vec()),
        )
            .prop_map(move |(classes, default)| {
                DefaultRange {
                    classes: Refs(classes),
                    default,
                    span: d,
                }
                .into()
            })
            .boxed(),
        (
            qstring(),
            prop::sample::select(FileType::ALL.to_vec()),
            prop::option::of(context()),
        )
            .prop_map(move |(path, file_type, context)| {
                FileCon {
                    path,
                    file_type,
                    context,
                    span: d,
                }
                .into()
            })
            .boxed(),
        (
            qstring().prop_map(Word),
            qstring(),
            prop::option::of(prop::sample::select(FileType::ALL.to_vec())),
            context(),
        )
            .prop_map(move |(fs, path, file_type, context)| {
                GenFsCon {
                    fs,
                    path,
                    file_type,
                    context,
                    span: d,
                }
                .into()
            })
            .boxed(),
        (
            prop::sample::select(Protocol::ALL.to_vec()),
            number_range(65535, false),
            context(),
        )
            .prop_map(move |(protocol, ports, context)| {
                PortCon {
                    protocol,
                    ports,
                    context,
                    span: d,
                }
                .into()
            })
            .boxed(),
        (number_range(u64::MAX, true), context())
            .prop_map(move |(addresses, context)| {
                IoMemCon {
                    addresses,
                    context,
                    span: d,
                }
                .into()
            })
            .boxed(),
        (
            prop_oneof![Just("10.1.2.3"), Just("::1"), Just("fe80::1:2")],
            context(),
        )
            .prop_map(move |(a, context)| {
                let a = IpArg::Literal(IpAddress::new(a).unwrap());
                NodeCon {
                    address: a.clone(),
                    mask: a,
                    context,
                    span: d,
                }
                .into()
            })
            .boxed(),
        prop::sample::select(UnknownAction::ALL.to_vec())
            .prop_map(move |action| HandleUnknown { action, span: d }.into())
            .boxed(),
    ])
}

fn comment() -> impl Strategy<Value = Statement> {
    "[^\r\n]{0,20}".prop_map(|t| Statement::Comment(Comment::new(t).unwrap()))
}

/// Statements allowed anywhere, including inside `booleanif`.
fn rule() -> impl Strategy<Value = Statement> {
    let d = Span::DUMMY;
    prop_oneof![
        (
            prop_oneof![
                Just(AvKind::Allow),
                Just(AvKind::AuditAllow),
                Just(AvKind::DontAudit)
            ],
            reference(),
            reference(),
            classperms()
        )
            .prop_map(move |(kind, source, target, classperms)| AvRule {
                kind,
                source,
                target,
                classperms,
                span: d
            }
            .into()),
        (
            reference(),
            reference(),
            reference(),
            prop::option::of(qstring()),
            reference()
        )
            .prop_map(
                move |(source, target, class, object_name, result)| TypeTransition {
                    source,
                    target,
                    class,
                    object_name,
                    result,
                    span: d
                }
                .into()
            ),
        (reference(), reference(), reference(), reference()).prop_map(
            move |(source, target, class, result)| TypeChange {
                source,
                target,
                class,
                result,
                span: d
            }
            .into()
        ),
        (reference(), prop::collection::vec(value(), 0..4)).prop_map(move |(name, args)| Call {
            name,
            args,
            span: d
        }
        .into()),
    ]
}

/// Statements with no nesting.
fn leaf_statement() -> impl Strategy<Value = Statement> {
    let d = Span::DUMMY;
    Union::new(vec![
        rule().boxed(),
        comment().boxed(),
        (av_kind(), reference(), reference(), classperms())
            .prop_map(move |(kind, source, target, classperms)| {
                AvRule {
                    kind,
                    source,
                    target,
                    classperms,
                    span: d,
                }
                .into()
            })
            .boxed(),
        (reference(), reference(), reference(), permx_expr())
            .prop_map(move |(source, target, class, values)| {
                AvRuleX {
                    kind: AvxKind::Allow,
                    source,
                    target,
                    permx: PermxArg::Anonymous(Permx {
                        kind: PermxKind::Ioctl,
                        class,
                        values,
                    }),
                    span: d,
                }
                .into()
            })
            .boxed(),
        name()
            .prop_map(move |name| Type { name, span: d }.into())
            .boxed(),
        name()
            .prop_map(move |name| TypeAttribute { name, span: d }.into())
            .boxed(),
        (reference(), set_term())
            .prop_map(move |(attribute, expr)| {
                TypeAttributeSet {
                    attribute,
                    expr,
                    span: d,
                }
                .into()
            })
            .boxed(),
        (prop::collection::vec(reference(), 1..3), any::<bool>())
            .prop_map(move |(attributes, expand)| {
                ExpandTypeAttribute {
                    attributes: Refs(attributes),
                    expand,
                    span: d,
                }
                .into()
            })
            .boxed(),
        (name(), prop::collection::vec(name(), 0..4))
            .prop_map(move |(name, perms)| {
                Class {
                    name,
                    perms,
                    span: d,
                }
                .into()
            })
            .boxed(),
        (name(), prop::collection::vec(name(), 1..4))
            .prop_map(move |(name, perms)| {
                Common {
                    name,
                    perms,
                    span: d,
                }
                .into()
            })
            .boxed(),
        (any::<bool>(), prop::collection::vec(reference(), 1..4))
            .prop_map(move |(unordered, classes)| {
                ClassOrder {
                    unordered,
                    classes,
                    span: d,
                }
                .into()
            })
            .boxed(),
        (reference(), classperms())
            .prop_map(move |(name, classperms)| {
                ClassPermissionSet {
                    name,
                    classperms,
                    span: d,
                }
                .into()
            })
            .boxed(),
        (name(), any::<bool>())
            .prop_map(move |(name, value)| {
                Boolean {
                    name,
                    value,
                    span: d,
                }
                .into()
            })
            .boxed(),
        (reference(), reference())
            .prop_map(move |(role, ty)| RoleType { role, ty, span: d }.into())
            .boxed(),
        (reference(), reference(), reference(), reference())
            .prop_map(move |(source, target, class, result)| {
                RoleTransition {
                    source,
                    target,
                    class,
                    result,
                    span: d,
                }
                .into()
            })
            .boxed(),
    ])
}

fn conditional(body: BoxedStrategy<Statement>) -> impl Strategy<Value = Statement> {
    let branch = prop::option::of(prop::collection::vec(body, 1..3));
    (any::<bool>(), bool_term(), branch.clone(), branch)
        .prop_filter("needs a branch", |(_, _, t, f)| t.is_some() || f.is_some())
        .prop_map(|(tunable, condition, if_true, if_false)| {
            Conditional {
                kind: if tunable {
                    CondKind::Tunable
                } else {
                    CondKind::Boolean
                },
                condition,
                if_true,
                if_false,
                span: Span::DUMMY,
            }
            .into()
        })
}

fn statement() -> impl Strategy<Value = Statement> {
    let d = Span::DUMMY;
    let in_optional = prop_oneof![3 => leaf_statement(), 1 => conditional(rule().boxed())].boxed();
    leaf_statement().prop_recursive(3, 32, 4, move |inner| {
        let inherit =
            reference().prop_map(move |block| Statement::from(BlockInherit { block, span: d }));
        let body = prop::collection::vec(prop_oneof![4 => inner.clone(), 1 => inherit], 0..4);
        let flat = prop::collection::vec(in_optional.clone(), 0..4);
        prop_oneof![
            (name(), body.clone()).prop_map(move |(name, body)| Block {
                name,
                body,
                span: d
            }
            .into()),
            (name(), flat.clone()).prop_map(move |(name, body)| Optional {
                name,
                body,
                span: d
            }
            .into()),
            (
                prop::option::of(prop_oneof![
                    Just(InPosition::Before),
                    Just(InPosition::After)
                ]),
                reference(),
                prop::collection::vec(rule(), 0..3)
            )
                // Without a position, `in` needs a statement.
                .prop_filter("a statement", |(p, _, body)| p.is_some()
                    || !body.is_empty())
                .prop_map(move |(position, container, body)| In {
                    position,
                    container,
                    body,
                    span: d
                }
                .into()),
            (
                name(),
                prop::collection::btree_map(name_text(), 0..15usize, 0..4),
                flat
            )
                .prop_map(move |(name, params, body)| {
                    let params = params
                        .into_iter()
                        .map(|(n, k)| Param {
                            kind: ParamKind::ALL[k],
                            name: Name::new(n).unwrap(),
                        })
                        .collect();
                    Macro {
                        name,
                        params,
                        body,
                        span: d,
                    }
                    .into()
                }),
            conditional(rule().boxed()),
        ]
    })
}

fn policy() -> impl Strategy<Value = Policy> {
    let path = "[^\"\n\r\0]{0,16}".prop_map(|s| QString::new(s).unwrap());
    let marked =
        (path, any::<u32>(), any::<bool>(), statement()).prop_map(|(path, line, expanded, s)| {
            vec![
                Statement::LineMark(LineMark::Start {
                    expanded,
                    line,
                    path,
                    span: Span::DUMMY,
                }),
                s,
                Statement::LineMark(LineMark::End { span: Span::DUMMY }),
            ]
        });
    prop::collection::vec(
        prop_oneof![
            4 => statement().prop_map(|s| vec![s]),
            2 => labeling_statement().prop_map(|s| vec![s]),
            1 => marked,
        ],
        0..8,
    )
    .prop_map(|groups| groups.into_iter().flatten().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn valid_names_print_and_parse_back(s in "[A-Za-z][A-Za-z0-9_-]{0,30}") {
        prop_assume!(!RESERVED.contains(&s.as_str()));
        let n = Name::new(&s).unwrap();
        let policy = cilgen::parse(&format!("(type {n})")).unwrap();
        let Statement::Type(t) = &policy.statements[0] else { panic!() };
        prop_assert_eq!(&t.name, &n);
    }

    #[test]
    fn name_constructor_matches_the_rule(s in "\\PC{0,12}|[A-Za-z][A-Za-z0-9_.$-]{0,8}") {
        prop_assert_eq!(Name::new(&s).is_ok(), is_valid_name(&s), "{:?}", s);
        if let Ok(n) = Name::new(&s) {
            prop_assert_eq!(n.as_str(), s.as_str());
        }
    }

    #[test]
    fn quoted_strings_round_trip(s in "[^\"\n\0]{0,24}") {
        let q = QString::new(&s).unwrap();
        let policy = cilgen::parse(&format!("(typetransition a b c \"{s}\" d)")).unwrap();
        let Statement::TypeTransition(t) = &policy.statements[0] else { panic!() };
        prop_assert_eq!(t.object_name.as_ref(), Some(&q));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(p) = cilgen::parse(&text) {
            let printed = p.to_string();
            prop_assert_eq!(cilgen::parse(&printed).unwrap(), p);
        }
    }

    #[test]
    fn mutated_real_policy_never_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..3u8, "[()\"; a-z0-9\n.é\\\\]{0,3}"), 1..6)
    ) {
        let mut text = corpus().to_string();
        for (at, op, piece) in edits {
            let mut i = at.index(text.len().max(1));
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            match op {
                0 => text.insert_str(i, &piece),
                1 => {
                    let mut end = (i + piece.len().max(1)).min(text.len());
                    while !text.is_char_boundary(end) {
                        end += 1;
                    }
                    text.replace_range(i..end, "");
                }
                _ => {
                    let mut end = (i + 1).min(text.len());
                    while !text.is_char_boundary(end) {
                        end += 1;
                    }
                    text.replace_range(i..end, &piece);
                }
            }
        }
        if let Ok(p) = cilgen::parse(&text) {
            let printed = p.to_string();
            prop_assert_eq!(&cilgen::parse(&printed).unwrap(), &p);
            // Resolution and its diagnostics take any policy that parses.
            let model = cilgen::resolve::resolve(&[cilgen::resolve::Input::new("m.cil", &p)]);
            let files = [cilgen::diagnostic::SourceFile::new("m.cil", &text)];
            for d in &model.diagnostics {
                let _ = d.to_diagnostic().render(&files);
            }
        }
    }

    #[test]
    fn diagnostics_render_at_any_span_of_any_text(
        src in "[()\"; a-z0-9\n.é\t]{0,60}",
        start in 0..70usize,
        len in 0..30usize,
        which in 0..6u8,
    ) {
        use cilgen::diagnostic::{Code, Diagnostic, Label, Pointer, SourceFile};
        let pointer = match which {
            0 => Pointer::Keyword,
            1 => Pointer::Arg(start % 3),
            2 => Pointer::Atom("a".into()),
            3 => Pointer::Permission { class: "a".into(), perm: "b".into() },
            4 => Pointer::Path(vec![start % 3, len % 2]),
            _ => Pointer::Exact,
        };
        let d = Diagnostic::new(Code::Unresolved, "m", Label::new(0, Span::new(start, start + len), pointer, "x"))
            .related(Label::new(0, Span::new(len, start), Pointer::Keyword, "y"))
            .related(Label::new(7, Span::new(0, 1), Pointer::Keyword, "elsewhere"));
        let out = d.render(&[SourceFile::new("f", &src)]);
        prop_assert!(out.starts_with("f:"), "{}", out);
    }

    #[test]
    fn cil_like_text_never_panics(text in "[()a-z \"\n;.*0-9]{0,200}") {
        if let Ok(p) = cilgen::parse(&text) {
            let printed = p.to_string();
            prop_assert_eq!(cilgen::parse(&printed).unwrap(), p);
        }
    }
}

/// parse(print(x)) == x for generated policies. The strategy's nested
/// types need more stack than a test thread has in an unoptimized build
/// (proptest's own frames, not cilgen's), so it runs on a thread of its own.
#[test]
fn generated_policies_round_trip() {
    let run = || {
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: cases(),
            ..ProptestConfig::default()
        });
        runner
            .run(&policy(), |p| {
                let text = p.to_string();
                let parsed = cilgen::parse(&text)
                    .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
                prop_assert_eq!(&parsed, &p, "{}", text);
                prop_assert_eq!(parsed.to_string(), text);
                Ok(())
            })
            .map_err(|e| e.to_string())
    };
    let result = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(run)
        .unwrap()
        .join()
        .unwrap();
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Words that read as something else in some place: operators, built-in
/// targets, constraint operands, contextual keywords.
#[cfg(feature = "serde")]
const HAZARDS: [&str; 20] = [
    "and",
    "or",
    "xor",
    "not",
    "all",
    "eq",
    "neq",
    "range",
    "self",
    "notself",
    "other",
    "u1",
    "u2",
    "t2",
    "t3",
    "l1",
    "h2",
    "unordered",
    "before",
    "true",
];

/// One edit of a tree's JSON: what any code building a tree could do.
#[cfg(feature = "serde")]
#[derive(Clone, Debug)]
enum Edit {
    /// A string (a name, a path, a keyword) becomes a hazard word, or a
    /// string with a line break.
    Word(usize, usize),
    /// A list is emptied.
    Empty(usize),
    /// A number becomes one past a limit.
    Number(usize, u64),
    /// A flag flips.
    Flip(usize),
    /// A statement list gets a declaration or a container (nesting rules).
    Insert(usize, usize),
}

#[cfg(feature = "serde")]
fn edit() -> impl Strategy<Value = Edit> {
    let at = 0..400usize;
    prop_oneof![
        4 => (at.clone(), 0..HAZARDS.len() + 1).prop_map(|(a, w)| Edit::Word(a, w)),
        2 => at.clone().prop_map(Edit::Empty),
        2 => (at.clone(), prop::sample::select(vec![0u64, 256, 1024, 65535, 65536, 70000, 1 << 32]))
            .prop_map(|(a, n)| Edit::Number(a, n)),
        1 => at.clone().prop_map(Edit::Flip),
        2 => (at, 0..3usize).prop_map(|(a, k)| Edit::Insert(a, k)),
    ]
}

/// Visits every JSON node depth first, parents before children, telling
/// whether the node is a statement list.
#[cfg(feature = "serde")]
fn each(v: &mut serde_json::Value, body: bool, f: &mut dyn FnMut(&mut serde_json::Value, bool)) {
    f(v, body);
    match v {
        serde_json::Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                let body = matches!(k.as_str(), "body" | "if_true" | "if_false" | "statements");
                each(child, body, f);
            }
        }
        serde_json::Value::Array(items) => {
            for child in items.iter_mut() {
                each(child, false, f);
            }
        }
        _ => {}
    }
}

/// Applies `edit` to the `n`th node it can apply to (wrapping around).
#[cfg(feature = "serde")]
fn apply(v: &mut serde_json::Value, edit: &Edit) {
    use serde_json::Value;
    let fits = |node: &Value, body: bool| match edit {
        Edit::Word(..) => node.is_string(),
        Edit::Number(..) => node.is_u64(),
        Edit::Flip(_) => node.is_boolean(),
        Edit::Empty(_) => node.as_array().is_some_and(|a| !a.is_empty()),
        Edit::Insert(..) => body && node.is_array(),
    };
    let mut count = 0;
    each(v, false, &mut |node, body| {
        count += usize::from(fits(node, body))
    });
    if count == 0 {
        return;
    }
    let (Edit::Word(n, _)
    | Edit::Number(n, _)
    | Edit::Flip(n)
    | Edit::Empty(n)
    | Edit::Insert(n, _)) = edit;
    let target = n % count;
    let mut seen = 0;
    each(v, false, &mut |node, body| {
        if !fits(node, body) {
            return;
        }
        if seen == target {
            match edit {
                Edit::Word(_, w) => {
                    *node = Value::String(
                        HAZARDS
                            .get(*w)
                            .map_or("a\r(type x)".to_string(), |h| h.to_string()),
                    )
                }
                Edit::Number(_, k) => *node = Value::from(*k),
                Edit::Flip(_) => *node = Value::Bool(!node.as_bool().unwrap_or(false)),
                Edit::Empty(_) => *node = Value::Array(Vec::new()),
                Edit::Insert(_, k) => {
                    if let Value::Array(items) = node {
                        items.push(match k {
                            0 => serde_json::json!({"Type": {"name": "inserted_t"}}),
                            1 => serde_json::json!({"Block": {"name": "inserted", "body": []}}),
                            _ => {
                                serde_json::json!({"Tunable": {"name": "inserted", "value": true}})
                            }
                        });
                    }
                }
            }
        }
        seen += 1;
    });
}

/// Trees built in code, not only valid ones: every generated policy with
/// edits a builder could make (hazard words, empty lists, numbers past their
/// limits, declarations where they are not allowed). Printed with the
/// checked printer, each either reads back as the same tree or is refused;
/// `Display` never panics on any of them; and valid trees are never refused.
#[cfg(feature = "serde")]
#[test]
fn hand_built_trees_print_back_or_are_refused() {
    let run = || {
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: cases() * 2,
            ..ProptestConfig::default()
        });
        let refused = std::cell::Cell::new(0u32);
        let result = runner
            .run(
                &(policy(), prop::collection::vec(edit(), 1..4)),
                |(p, edits)| {
                    prop_assert!(p.to_checked_string().is_ok(), "a valid tree was refused");
                    let mut json = serde_json::to_value(&p).unwrap();
                    for e in &edits {
                        apply(&mut json, e);
                    }
                    // The checks of the constructors still hold: what they
                    // refuse does not deserialise.
                    let Ok(tree) = serde_json::from_value::<Policy>(json) else {
                        return Ok(());
                    };
                    let _ = tree.to_string();
                    match tree.to_checked_string() {
                        Ok(text) => {
                            let back = cilgen::parse(&text)
                                .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
                            prop_assert_eq!(back, tree, "{}", text);
                        }
                        Err(_) => refused.set(refused.get() + 1),
                    }
                    Ok(())
                },
            )
            .map_err(|e| e.to_string());
        result.map(|()| refused.get())
    };
    let result = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(run)
        .unwrap()
        .join()
        .unwrap();
    match result {
        // The edits do make trees that cannot be printed: the test sees them.
        Ok(refused) => assert!(refused > 0, "no edit made an unprintable tree"),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn a_megabyte_of_open_parentheses_is_an_error() {
    for src in [
        "(".repeat(1_000_000),
        ")".repeat(1_000_000),
        format!("(block a {}", "(".repeat(1_000_000)),
    ] {
        let err = cilgen::parse(&src).unwrap_err();
        assert!(err.line() == 1, "{err}");
    }
    let err = cilgen::ParseOptions::new()
        .max_depth(4096)
        .parse(&"(".repeat(1_000_000))
        .unwrap_err();
    assert_eq!(err.kind(), &cilgen::ErrorKind::TreeTooDeep { limit: 256 });
    let err = cilgen::ParseOptions::new()
        .max_depth(10)
        .parse(&"(".repeat(100))
        .unwrap_err();
    assert_eq!(err.kind(), &cilgen::ErrorKind::TooDeep { limit: 10 });
}

#[test]
fn the_deepest_accepted_nesting_is_stack_safe_on_a_test_thread() {
    let n = 255;
    let cases = [
        format!("{}(type t){}", "(block a ".repeat(n), ")".repeat(n)),
        format!(
            "(typeattributeset a {}b{})",
            "(not ".repeat(n - 1),
            ")".repeat(n - 1)
        ),
        format!("(call m ({}b{}))", "(".repeat(n - 1), ")".repeat(n - 1)),
        format!(
            "{}(type t){}",
            "(tunableif t (true ".repeat(n / 2),
            "))".repeat(n / 2)
        ),
        format!(
            "{}(type t){}",
            "(optional o (tunableif t (true ".repeat(n / 3),
            ")))".repeat(n / 3)
        ),
    ];
    for src in cases {
        let p = cilgen::parse(&src).unwrap_or_else(|e| panic!("{e}"));
        let printed = p.to_string();
        let again = cilgen::parse(&printed).unwrap();
        assert_eq!(again, p);
        let _ = format!("{:?}", p.clone());
    }
}
