//! Builds our model of the impl block: which methods are wrapped, which are left alone.

use syn::{Attribute, ImplItem, ItemImpl};

/// The impl block, with every `#[exclude]` attribute already removed from it.
pub(crate) struct RootImpl {
    pub(crate) item: ItemImpl,
    pub(crate) methods: Vec<Method>,
}

/// One `fn` of the block.
pub(crate) struct Method {
    /// Position in `RootImpl::item.items`.
    pub(crate) index: usize,
    pub(crate) kind: MethodKind,
    /// The `#[exclude]` attributes that were removed from it (kept for validation).
    pub(crate) excludes: Vec<Attribute>,
}

pub(crate) enum MethodKind {
    /// Rewritten to run on rank 0 with a broadcast result.
    Wrapped,
    /// Left as written.
    Excluded(ExcludeReason),
}

pub(crate) enum ExcludeReason {
    /// Marked `#[exclude]`.
    Attribute,
    /// No `self` receiver: an associated function or constructor.
    NoReceiver,
}

/// `#[exclude]` or `#[<path>::exclude]`.
fn is_exclude(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "exclude")
}

/// Classifies every method and strips the `#[exclude]` attributes, which are not real
/// attributes once `#[root_process]` has consumed them.
pub(crate) fn parse(mut item: ItemImpl) -> RootImpl {
    let mut methods = Vec::new();
    for (index, impl_item) in item.items.iter_mut().enumerate() {
        let ImplItem::Fn(f) = impl_item else { continue };
        let (excludes, kept): (Vec<_>, Vec<_>) = f.attrs.drain(..).partition(is_exclude);
        f.attrs = kept;
        let kind = if f.sig.receiver().is_none() {
            MethodKind::Excluded(ExcludeReason::NoReceiver)
        } else if !excludes.is_empty() {
            MethodKind::Excluded(ExcludeReason::Attribute)
        } else {
            MethodKind::Wrapped
        };
        methods.push(Method {
            index,
            kind,
            excludes,
        });
    }
    RootImpl { item, methods }
}
