//! Users, MLS, contexts, constraints and defaults.

use super::*;

simple_statements! {
    parser parse_fixed_users_and_mls;
    /// Declares an SELinux user.
    User "user" "(user NAME)" {
        /// The user.
        name: Name as User,
    }
    /// Lets a user hold a role.
    UserRole "userrole" "(userrole USER ROLE)" {
        /// The user or user attribute.
        user: Ref as User,
        /// The role or role attribute.
        role: Ref as Role,
    }
    /// Declares a user attribute.
    UserAttribute "userattribute" "(userattribute NAME)" {
        /// The attribute.
        name: Name as User,
    }
    /// Sets which users a user attribute holds.
    UserAttributeSet "userattributeset" "(userattributeset ATTRIBUTE EXPR)" {
        /// The attribute.
        attribute: Ref as User,
        /// A user or an expression.
        expr: Term as User,
    }
    /// A user's default level.
    UserLevel "userlevel" "(userlevel USER LEVEL)" {
        /// The user.
        user: Ref as User,
        /// The level.
        level: Level as Level,
    }
    /// A user's range.
    UserRange "userrange" "(userrange USER RANGE)" {
        /// The user.
        user: Ref as User,
        /// The range.
        range: LevelRange as LevelRange,
    }
    /// Bounds a child user by its parent.
    UserBounds "userbounds" "(userbounds PARENT CHILD)" {
        /// The bounding user.
        parent: Ref as User,
        /// The bounded user.
        child: Ref as User,
    }
    /// A user's prefix for home directory labeling.
    UserPrefix "userprefix" "(userprefix USER PREFIX)" {
        /// The user.
        user: Ref as User,
        /// The prefix.
        prefix: Word as Plain,
    }
    /// Maps a Linux user to an SELinux user and range.
    SelinuxUser "selinuxuser" "(selinuxuser LINUX_USER USER RANGE)" {
        /// The Linux user (or `%group`).
        name: Word as Plain,
        /// The SELinux user.
        user: Ref as User,
        /// The range.
        range: LevelRange as LevelRange,
    }
    /// The SELinux user and range for unmapped Linux users.
    SelinuxUserDefault "selinuxuserdefault" "(selinuxuserdefault USER RANGE)" {
        /// The SELinux user.
        user: Ref as User,
        /// The range.
        range: LevelRange as LevelRange,
    }
    /// Declares a sensitivity.
    Sensitivity "sensitivity" "(sensitivity NAME)" {
        /// The sensitivity.
        name: Name as Sensitivity,
    }
    /// Declares a sensitivity alias.
    SensitivityAlias "sensitivityalias" "(sensitivityalias NAME)" {
        /// The alias.
        name: Name as Sensitivity,
    }
    /// Binds a sensitivity alias.
    SensitivityAliasActual "sensitivityaliasactual" "(sensitivityaliasactual ALIAS SENSITIVITY)" {
        /// The alias.
        alias: Ref as Sensitivity,
        /// The sensitivity.
        actual: Ref as Sensitivity,
    }
    /// Orders sensitivities, lowest first.
    SensitivityOrder "sensitivityorder" "(sensitivityorder (SENSITIVITY...))" {
        /// The sensitivities.
        order: Vec<Ref> as Sensitivity,
    }
    /// Declares a category.
    Category "category" "(category NAME)" {
        /// The category.
        name: Name as Category,
    }
    /// Declares a category alias.
    CategoryAlias "categoryalias" "(categoryalias NAME)" {
        /// The alias.
        name: Name as Category,
    }
    /// Binds a category alias.
    CategoryAliasActual "categoryaliasactual" "(categoryaliasactual ALIAS CATEGORY)" {
        /// The alias.
        alias: Ref as Category,
        /// The category.
        actual: Ref as Category,
    }
    /// Orders categories.
    CategoryOrder "categoryorder" "(categoryorder (CATEGORY...))" {
        /// The categories.
        order: Vec<Ref> as Category,
    }
    /// Declares a named category set.
    CategorySet "categoryset" "(categoryset NAME CATEGORIES)" {
        /// Its name.
        name: Name as Category,
        /// Its categories.
        categories: Categories as Category,
    }
    /// Gives a sensitivity its categories.
    SensitivityCategory "sensitivitycategory" "(sensitivitycategory SENSITIVITY CATEGORIES)" {
        /// The sensitivity.
        sensitivity: Ref as Sensitivity,
        /// The categories.
        categories: Categories as Category,
    }
    /// Declares a named level.
    LevelDecl "level" "(level NAME LEVEL)" {
        /// Its name.
        name: Name as Level,
        /// The level.
        level: Level as Level,
    }
    /// Declares a named range.
    LevelRangeDecl "levelrange" "(levelrange NAME RANGE)" {
        /// Its name.
        name: Name as LevelRange,
        /// The range.
        range: LevelRange as LevelRange,
    }
    /// A range transition rule.
    RangeTransition "rangetransition" "(rangetransition SOURCE TARGET CLASS RANGE)" {
        /// Source type.
        source: Ref as Type,
        /// Target type.
        target: Ref as Type,
        /// Object class.
        class: Ref as Class,
        /// New range.
        range: LevelRange as LevelRange,
    }
    /// Declares a named context.
    ContextDecl "context" "(context NAME CONTEXT)" {
        /// Its name.
        name: Name as Context,
        /// The context.
        context: Context as Context,
    }
    /// A constraint on permissions.
    Constrain "constrain" "(constrain CLASSPERMS EXPR)" {
        /// What it constrains.
        classperms: ClassPerms as Class,
        /// The condition.
        expr: ConstraintExpr as Type,
    }
    /// An MLS constraint on permissions.
    MlsConstrain "mlsconstrain" "(mlsconstrain CLASSPERMS EXPR)" {
        /// What it constrains.
        classperms: ClassPerms as Class,
        /// The condition.
        expr: ConstraintExpr as Type,
    }
    /// A constraint on relabeling.
    ValidateTrans "validatetrans" "(validatetrans CLASS EXPR)" {
        /// The class.
        class: Ref as Class,
        /// The condition.
        expr: ConstraintExpr as Type,
    }
    /// An MLS constraint on relabeling.
    MlsValidateTrans "mlsvalidatetrans" "(mlsvalidatetrans CLASS EXPR)" {
        /// The class.
        class: Ref as Class,
        /// The condition.
        expr: ConstraintExpr as Type,
    }
    /// Where new objects' users come from.
    DefaultUser "defaultuser" "(defaultuser CLASSES source|target)" {
        /// The classes.
        classes: Refs as Class,
        /// Source or target.
        side: DefaultSide as Plain,
    }
    /// Where new objects' roles come from.
    DefaultRole "defaultrole" "(defaultrole CLASSES source|target)" {
        /// The classes.
        classes: Refs as Class,
        /// Source or target.
        side: DefaultSide as Plain,
    }
    /// Where new objects' types come from.
    DefaultType "defaulttype" "(defaulttype CLASSES source|target)" {
        /// The classes.
        classes: Refs as Class,
        /// Source or target.
        side: DefaultSide as Plain,
    }
}

/// Where new objects' ranges come from:
/// `(defaultrange CLASSES source|target low|high|low-high)` or
/// `(defaultrange CLASSES glblub)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DefaultRange {
    /// The classes.
    pub classes: Refs,
    /// What to take.
    pub default: RangeDefault,
    /// Where it was parsed from.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub span: Span,
}
