//! Users, MLS, contexts, constraints and defaults.

use super::*;

simple_statements! {
    /// Declares an SELinux user.
    User "user" "(user NAME)" {
        /// The user.
        name: Name,
    }
    /// Lets a user hold a role.
    UserRole "userrole" "(userrole USER ROLE)" {
        /// The user or user attribute.
        user: Ref,
        /// The role or role attribute.
        role: Ref,
    }
    /// Declares a user attribute.
    UserAttribute "userattribute" "(userattribute NAME)" {
        /// The attribute.
        name: Name,
    }
    /// Sets which users a user attribute holds.
    UserAttributeSet "userattributeset" "(userattributeset ATTRIBUTE EXPR)" {
        /// The attribute.
        attribute: Ref,
        /// A user or an expression.
        expr: Term,
    }
    /// A user's default level.
    UserLevel "userlevel" "(userlevel USER LEVEL)" {
        /// The user.
        user: Ref,
        /// The level.
        level: Level,
    }
    /// A user's range.
    UserRange "userrange" "(userrange USER RANGE)" {
        /// The user.
        user: Ref,
        /// The range.
        range: LevelRange,
    }
    /// Bounds a child user by its parent.
    UserBounds "userbounds" "(userbounds PARENT CHILD)" {
        /// The bounding user.
        parent: Ref,
        /// The bounded user.
        child: Ref,
    }
    /// A user's prefix for home directory labeling.
    UserPrefix "userprefix" "(userprefix USER PREFIX)" {
        /// The user.
        user: Ref,
        /// The prefix.
        prefix: Word,
    }
    /// Maps a Linux user to an SELinux user and range.
    SelinuxUser "selinuxuser" "(selinuxuser LINUX_USER USER RANGE)" {
        /// The Linux user (or `%group`).
        name: Word,
        /// The SELinux user.
        user: Ref,
        /// The range.
        range: LevelRange,
    }
    /// The SELinux user and range for unmapped Linux users.
    SelinuxUserDefault "selinuxuserdefault" "(selinuxuserdefault USER RANGE)" {
        /// The SELinux user.
        user: Ref,
        /// The range.
        range: LevelRange,
    }
    /// Declares a sensitivity.
    Sensitivity "sensitivity" "(sensitivity NAME)" {
        /// The sensitivity.
        name: Name,
    }
    /// Declares a sensitivity alias.
    SensitivityAlias "sensitivityalias" "(sensitivityalias NAME)" {
        /// The alias.
        name: Name,
    }
    /// Binds a sensitivity alias.
    SensitivityAliasActual "sensitivityaliasactual" "(sensitivityaliasactual ALIAS SENSITIVITY)" {
        /// The alias.
        alias: Ref,
        /// The sensitivity.
        actual: Ref,
    }
    /// Orders sensitivities, lowest first.
    SensitivityOrder "sensitivityorder" "(sensitivityorder (SENSITIVITY...))" {
        /// The sensitivities.
        order: Vec<Ref>,
    }
    /// Declares a category.
    Category "category" "(category NAME)" {
        /// The category.
        name: Name,
    }
    /// Declares a category alias.
    CategoryAlias "categoryalias" "(categoryalias NAME)" {
        /// The alias.
        name: Name,
    }
    /// Binds a category alias.
    CategoryAliasActual "categoryaliasactual" "(categoryaliasactual ALIAS CATEGORY)" {
        /// The alias.
        alias: Ref,
        /// The category.
        actual: Ref,
    }
    /// Orders categories.
    CategoryOrder "categoryorder" "(categoryorder (CATEGORY...))" {
        /// The categories.
        order: Vec<Ref>,
    }
    /// Declares a named category set.
    CategorySet "categoryset" "(categoryset NAME CATEGORIES)" {
        /// Its name.
        name: Name,
        /// Its categories.
        categories: Categories,
    }
    /// Gives a sensitivity its categories.
    SensitivityCategory "sensitivitycategory" "(sensitivitycategory SENSITIVITY CATEGORIES)" {
        /// The sensitivity.
        sensitivity: Ref,
        /// The categories.
        categories: Categories,
    }
    /// Declares a named level.
    LevelDecl "level" "(level NAME LEVEL)" {
        /// Its name.
        name: Name,
        /// The level.
        level: Level,
    }
    /// Declares a named range.
    LevelRangeDecl "levelrange" "(levelrange NAME RANGE)" {
        /// Its name.
        name: Name,
        /// The range.
        range: LevelRange,
    }
    /// A range transition rule.
    RangeTransition "rangetransition" "(rangetransition SOURCE TARGET CLASS RANGE)" {
        /// Source type.
        source: Ref,
        /// Target type.
        target: Ref,
        /// Object class.
        class: Ref,
        /// New range.
        range: LevelRange,
    }
    /// Declares a named context.
    ContextDecl "context" "(context NAME CONTEXT)" {
        /// Its name.
        name: Name,
        /// The context.
        context: Context,
    }
    /// A constraint on permissions.
    Constrain "constrain" "(constrain CLASSPERMS EXPR)" {
        /// What it constrains.
        classperms: ClassPerms,
        /// The condition.
        expr: ConstraintExpr,
    }
    /// An MLS constraint on permissions.
    MlsConstrain "mlsconstrain" "(mlsconstrain CLASSPERMS EXPR)" {
        /// What it constrains.
        classperms: ClassPerms,
        /// The condition.
        expr: ConstraintExpr,
    }
    /// A constraint on relabeling.
    ValidateTrans "validatetrans" "(validatetrans CLASS EXPR)" {
        /// The class.
        class: Ref,
        /// The condition.
        expr: ConstraintExpr,
    }
    /// An MLS constraint on relabeling.
    MlsValidateTrans "mlsvalidatetrans" "(mlsvalidatetrans CLASS EXPR)" {
        /// The class.
        class: Ref,
        /// The condition.
        expr: ConstraintExpr,
    }
    /// Where new objects' users come from.
    DefaultUser "defaultuser" "(defaultuser CLASSES source|target)" {
        /// The classes.
        classes: Refs,
        /// Source or target.
        side: DefaultSide,
    }
    /// Where new objects' roles come from.
    DefaultRole "defaultrole" "(defaultrole CLASSES source|target)" {
        /// The classes.
        classes: Refs,
        /// Source or target.
        side: DefaultSide,
    }
    /// Where new objects' types come from.
    DefaultType "defaulttype" "(defaulttype CLASSES source|target)" {
        /// The classes.
        classes: Refs,
        /// Source or target.
        side: DefaultSide,
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
