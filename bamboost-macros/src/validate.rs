//! Every check on a parsed impl block, reporting all problems at once.

use crate::parse::{MethodKind, RootImpl};
use syn::visit::Visit;
use syn::{ImplItem, Meta, ReturnType, Type};

/// Pushes one spanned error per problem found in `root` onto `errors`.
pub(crate) fn validate(root: &RootImpl, errors: &mut Vec<syn::Error>) {
    if let Some((_, path, _)) = &root.item.trait_ {
        errors.push(syn::Error::new_spanned(
            path,
            "`#[root_process]` can only be used on inherent impl blocks, not on trait impls",
        ));
    }
    for method in &root.methods {
        for (i, attr) in method.excludes.iter().enumerate() {
            if !matches!(attr.meta, Meta::Path(_)) {
                errors.push(syn::Error::new_spanned(
                    &attr.meta,
                    "`#[exclude]` takes no arguments",
                ));
            }
            if i > 0 {
                errors.push(syn::Error::new_spanned(attr, "duplicate `#[exclude]`"));
            }
        }
        let ImplItem::Fn(f) = &root.item.items[method.index] else {
            continue;
        };
        if !matches!(method.kind, MethodKind::Wrapped) {
            continue;
        }
        let hint = "; mark the method `#[exclude]` to run it on every rank";
        if let Some(token) = &f.sig.asyncness {
            errors.push(syn::Error::new_spanned(
                token,
                format!("`#[root_process]` cannot run an `async fn` on rank 0 only{hint}"),
            ));
        }
        if let Some(token) = &f.sig.constness {
            errors.push(syn::Error::new_spanned(
                token,
                format!("`#[root_process]` cannot rewrite a `const fn`{hint}"),
            ));
        }
        if let ReturnType::Type(_, ty) = &f.sig.output {
            let mut finder = Borrowed::default();
            finder.visit_type(ty);
            if let Some((tokens, what)) = finder.found {
                errors.push(syn::Error::new_spanned(
                    tokens,
                    format!(
                        "the return value of a `#[root_process]` method is sent from rank 0 to every rank, so it must be an owned type, not {what}{hint}"
                    ),
                ));
            }
        }
    }
}

/// Finds the first reference or `impl Trait` in a return type.
#[derive(Default)]
struct Borrowed {
    found: Option<(proc_macro2::TokenStream, &'static str)>,
}

impl<'ast> Visit<'ast> for Borrowed {
    fn visit_type(&mut self, ty: &'ast Type) {
        if self.found.is_some() {
            return;
        }
        match ty {
            Type::Reference(r) => self.found = Some((quote::quote!(#r), "a reference")),
            Type::ImplTrait(t) => self.found = Some((quote::quote!(#t), "`impl Trait`")),
            _ => syn::visit::visit_type(self, ty),
        }
    }
}
