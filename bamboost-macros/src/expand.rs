//! Code generation for `#[root_process]`, and the two entry points.

use crate::args::Args;
use crate::parse::{self, ExcludeReason, MethodKind, RootImpl};
use crate::{path, validate};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, ImplItem, ItemImpl, ReturnType};

/// Expands `#[root_process(args)] item`. On any problem it returns the block as written (minus
/// the `#[exclude]` attributes it owns) followed by all the errors, so callers of the methods
/// still type-check and no follow-up errors appear.
pub(crate) fn root_process(args: TokenStream, item: TokenStream) -> TokenStream {
    let item: ItemImpl = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(_) => {
            let err = syn::Error::new(
                Span::call_site(),
                "`#[root_process]` can only be applied to an `impl` block",
            );
            let err = err.to_compile_error();
            return quote!(#item #err);
        }
    };
    let mut errors = Vec::new();
    let args = syn::parse2::<Args>(args).unwrap_or_else(|e| {
        errors.push(e);
        Args::default()
    });
    let root = parse::parse(item);
    validate::validate(&root, &mut errors);
    if let Some(err) = errors.into_iter().reduce(|mut all, e| {
        all.combine(e);
        all
    }) {
        let item = &root.item;
        let err = err.to_compile_error();
        return quote!(#item #err);
    }
    expand(root, &args)
}

/// `#[exclude]` reached on its own: `#[root_process]` would have removed it, so it is misplaced.
pub(crate) fn misplaced_exclude(_args: TokenStream, item: TokenStream) -> TokenStream {
    let err = syn::Error::new(
        Span::call_site(),
        "`#[exclude]` only has an effect on methods inside a `#[root_process]` impl block",
    )
    .to_compile_error();
    quote!(#err #item)
}

/// Rewrites every wrapped method of a validated block.
///
/// ```text
/// // Input
/// fn count(&mut self, filter: &Filter) -> Result<usize> { BODY }
///
/// // Output
/// fn count(&mut self, filter: &Filter) -> Result<usize> {
///     ::bamboost::__private::on_root::<Result<usize>>(
///         &::bamboost::__private::comm_of(&*self),
///         ::core::any::type_name::<Self>(),
///         "count",
///         move || -> Result<usize> { BODY },
///     )
/// }
/// ```
///
/// The communicator is a temporary, not a `let` binding: a generated local could be captured by
/// a user's unit struct or constant of the same name, which a `let` pattern would match against.
fn expand(mut root: RootImpl, args: &Args) -> TokenStream {
    let private = path::private(args);
    let mut warnings = TokenStream::new();
    for method in &root.methods {
        if let MethodKind::Excluded(ExcludeReason::NoReceiver) = method.kind {
            for attr in &method.excludes {
                warnings.extend(useless_exclude_warning(attr));
            }
        }
        if !matches!(method.kind, MethodKind::Wrapped) {
            continue;
        }
        let ImplItem::Fn(f) = &mut root.item.items[method.index] else {
            continue;
        };
        let Some(receiver) = f.sig.receiver() else {
            continue;
        };
        // `self` by value is the object itself; every other receiver derefs to it.
        let object = if receiver.reference.is_none() && receiver.colon_token.is_none() {
            quote_spanned!(receiver.span()=> &self)
        } else {
            quote_spanned!(receiver.span()=> &*self)
        };
        let comm_of = quote_spanned!(receiver.span()=> #private::comm_of(#object));
        let (ret, ret_span) = match &f.sig.output {
            ReturnType::Default => (quote!(()), f.sig.ident.span()),
            ReturnType::Type(_, ty) => (quote!(#ty), ty.span()),
        };
        let on_root = match &f.sig.output {
            ReturnType::Type(_, ty) if let Some(element) = number_vector_element(ty) => {
                match element {
                    Element::Number(number) => {
                        quote_spanned!(ret_span=> #private::on_root_numbers::<#number>)
                    }
                    Element::Row(number, len) => {
                        // A generic argument needs braces around anything but a literal or path.
                        let len = match len {
                            syn::Expr::Lit(_) | syn::Expr::Path(_) => quote!(#len),
                            other => quote!({ #other }),
                        };
                        quote_spanned!(ret_span=> #private::on_root_number_rows::<#number, #len>)
                    }
                    Element::Tuple(tuple) => {
                        quote_spanned!(ret_span=> #private::on_root_number_tuples::<#tuple>)
                    }
                }
            }
            ReturnType::Type(_, ty) if is_string(ty) => {
                quote_spanned!(ret_span=> #private::on_root_text)
            }
            _ => quote_spanned!(ret_span=> #private::on_root::<#ret>),
        };
        let name = f.sig.ident.to_string();
        let body = &f.block;
        let args =
            quote!(&#comm_of, ::core::any::type_name::<Self>(), #name, move || -> #ret #body);
        let call = match &f.sig.output {
            // Another element, or a `Result` of a vector: raw memory if the element is
            // `bytemuck::Pod`, which only the compiler knows.
            ReturnType::Type(_, ty)
                if vec_element(ty).is_some() && number_vector_element(ty).is_none()
                    || result_of_vec(ty) =>
            {
                quote_spanned! {ret_span=> {
                    #[allow(unused_imports)]
                    use #private::{ViaBytes as _, ViaEncoding as _};
                    (&&#private::Dispatch::<#ret>::NEW).on_root(#args)
                }}
            }
            _ => quote!(#on_root(#args)),
        };
        f.block = syn::parse_quote!({ #call });
    }
    let item = &root.item;
    quote!(#item #warnings)
}

/// The segment names of a plain type path (`std::vec::Vec<T>` gives `["std", "vec", "Vec"]`);
/// `None` for a qualified path (`<T as Trait>::X`) or a bare `::X`.
fn path_names(path: &syn::TypePath) -> Option<Vec<String>> {
    if path.qself.is_some() || path.path.leading_colon.is_some() && path.path.segments.len() == 1 {
        return None;
    }
    Some(
        path.path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect(),
    )
}

/// Whether a return type is spelled `String` (or `std::string::String`,
/// `alloc::string::String`): such strings are broadcast as their bytes instead of being
/// encoded. Other spellings (aliases) take the general path.
fn is_string(ty: &syn::Type) -> bool {
    let syn::Type::Path(path) = ty else {
        return false;
    };
    let Some(names) = path_names(path) else {
        return false;
    };
    path.path.segments.iter().all(|s| s.arguments.is_none())
        && matches!(
            names.iter().map(String::as_str).collect::<Vec<_>>()[..],
            ["String"] | ["std", "string", "String"] | ["alloc", "string", "String"]
        )
}

/// The element of a vector broadcast as raw memory.
enum Element<'a> {
    /// A primitive number.
    Number(&'a syn::Type),
    /// An array of primitive numbers, with its length.
    Row(&'a syn::Type, &'a syn::Expr),
    /// A tuple of two to four elements spelled as the same primitive number (`(f64, f64)`).
    Tuple(&'a syn::Type),
}

/// The element of a return type spelled `Vec<T>` (or `std::vec::Vec<T>`, `alloc::vec::Vec<T>`)
/// with `T` a primitive number, an array of them (`[f64; 3]`) or a tuple of two to four of one
/// of them (`(f64, f64)`): such vectors are broadcast as raw memory instead of being encoded
/// element by element. Any other element of a `Vec` (an alias, a user's type) is dispatched at
/// compile time instead: raw memory if it is `bytemuck::Pod`, encoded otherwise.
fn number_vector_element(ty: &syn::Type) -> Option<Element<'_>> {
    let element = vec_element(ty)?;
    match element {
        syn::Type::Array(array) if is_number(&array.elem) => {
            Some(Element::Row(&array.elem, &array.len))
        }
        syn::Type::Tuple(tuple)
            if (2..=4).contains(&tuple.elems.len())
                && tuple.elems.iter().all(is_number)
                && tuple.elems.iter().all(|e| e == &tuple.elems[0]) =>
        {
            Some(Element::Tuple(element))
        }
        number if is_number(number) => Some(Element::Number(number)),
        _ => None,
    }
}

/// The element type of a type spelled `Vec<T>` (or `std::vec::Vec<T>`, `alloc::vec::Vec<T>`).
fn vec_element(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let names = path_names(path)?;
    if !matches!(
        names.iter().map(String::as_str).collect::<Vec<_>>()[..],
        ["Vec"] | ["std", "vec", "Vec"] | ["alloc", "vec", "Vec"]
    ) {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &path.path.segments.last()?.arguments else {
        return None;
    };
    match &args.args.iter().collect::<Vec<_>>()[..] {
        [syn::GenericArgument::Type(element)] => Some(element),
        _ => None,
    }
}

/// Whether `ty` is spelled `Result<Vec<T>, …>` (any path ending in `Result`, so aliases such as
/// `bamboost::Result<Vec<T>>` and `std::io::Result<Vec<T>>` too).
fn result_of_vec(ty: &syn::Type) -> bool {
    let syn::Type::Path(path) = ty else {
        return false;
    };
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return false;
    };
    last.ident == "Result"
        && path.qself.is_none()
        && matches!(args.args.first(), Some(syn::GenericArgument::Type(ok)) if vec_element(ok).is_some())
}

/// Whether `ty` is spelled as a primitive number type.
fn is_number(ty: &syn::Type) -> bool {
    const NUMBERS: [&str; 10] = [
        "u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64",
    ];
    let syn::Type::Path(path) = ty else {
        return false;
    };
    path.qself.is_none()
        && path
            .path
            .get_ident()
            .is_some_and(|ident| NUMBERS.contains(&ident.to_string().as_str()))
}

/// A warning (stable Rust has no proc-macro warnings, so it uses a deprecated item, as
/// tracing-attributes does) for `#[exclude]` on a function without `self`, which already runs
/// on every rank.
fn useless_exclude_warning(attr: &syn::Attribute) -> TokenStream {
    let span = attr.span();
    let marker = Ident::new("__bamboost_useless_exclude", span);
    quote_spanned! {span=>
        const _: () = {
            #[deprecated(note = "`#[exclude]` has no effect here: functions without `self` already run on every rank")]
            #[allow(non_camel_case_types)]
            struct __bamboost_useless_exclude;
            let _ = #marker;
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    fn check(args: TokenStream, item: TokenStream, expected: Expect) {
        let output = root_process(args, item);
        let file: syn::File = syn::parse2(output).expect("the expansion is valid Rust");
        expected.assert_eq(&prettyplease::unparse(&file));
    }

    #[test]
    fn wraps_receivers_and_leaves_constructors_and_excluded_methods() {
        check(
            quote!(),
            quote! {
                impl Index {
                    /// Opens it.
                    pub fn open(path: &str) -> Self { Index }
                    /// Counts.
                    #[inline]
                    pub fn count(&mut self, filter: &str) -> Result<usize, Error> { Ok(filter.len()) }
                    fn touch(&self) { self.n += 1; }
                    fn consume(self) -> u8 { 1 }
                    fn boxed(self: Box<Self>) -> u8 { 2 }
                    fn field(&self) -> Vec<f64> { vec![] }
                    fn points(&self) -> Vec<[f32; 3]> { vec![] }
                    fn pairs(&self) -> Vec<[u8; 2 * LEN]> { vec![] }
                    fn spans(&self) -> Vec<(f64, f64)> { vec![] }
                    fn mixed(&self) -> Vec<(f64, u8)> { vec![] }
                    fn names(&self) -> Vec<String> { vec![] }
                    fn read(&self) -> Result<Vec<f64>, Error> { Ok(vec![]) }
                    fn title(&self) -> String { String::new() }
                    fn label(&self) -> std::string::String { String::new() }
                    #[exclude]
                    fn name(&self) -> &str { "x" }
                    #[bamboost::exclude]
                    fn other(&self) -> &str { "y" }
                }
            },
            expect![[r#"
                impl Index {
                    /// Opens it.
                    pub fn open(path: &str) -> Self {
                        Index
                    }
                    /// Counts.
                    #[inline]
                    pub fn count(&mut self, filter: &str) -> Result<usize, Error> {
                        ::bamboost::__private::on_root::<
                            Result<usize, Error>,
                        >(
                            &::bamboost::__private::comm_of(&*self),
                            ::core::any::type_name::<Self>(),
                            "count",
                            move || -> Result<usize, Error> { Ok(filter.len()) },
                        )
                    }
                    fn touch(&self) {
                        ::bamboost::__private::on_root::<
                            (),
                        >(
                            &::bamboost::__private::comm_of(&*self),
                            ::core::any::type_name::<Self>(),
                            "touch",
                            move || -> () {
                                self.n += 1;
                            },
                        )
                    }
                    fn consume(self) -> u8 {
                        ::bamboost::__private::on_root::<
                            u8,
                        >(
                            &::bamboost::__private::comm_of(&self),
                            ::core::any::type_name::<Self>(),
                            "consume",
                            move || -> u8 { 1 },
                        )
                    }
                    fn boxed(self: Box<Self>) -> u8 {
                        ::bamboost::__private::on_root::<
                            u8,
                        >(
                            &::bamboost::__private::comm_of(&*self),
                            ::core::any::type_name::<Self>(),
                            "boxed",
                            move || -> u8 { 2 },
                        )
                    }
                    fn field(&self) -> Vec<f64> {
                        ::bamboost::__private::on_root_numbers::<
                            f64,
                        >(
                            &::bamboost::__private::comm_of(&*self),
                            ::core::any::type_name::<Self>(),
                            "field",
                            move || -> Vec<f64> { vec![] },
                        )
                    }
                    fn points(&self) -> Vec<[f32; 3]> {
                        ::bamboost::__private::on_root_number_rows::<
                            f32,
                            3,
                        >(
                            &::bamboost::__private::comm_of(&*self),
                            ::core::any::type_name::<Self>(),
                            "points",
                            move || -> Vec<[f32; 3]> { vec![] },
                        )
                    }
                    fn pairs(&self) -> Vec<[u8; 2 * LEN]> {
                        ::bamboost::__private::on_root_number_rows::<
                            u8,
                            { 2 * LEN },
                        >(
                            &::bamboost::__private::comm_of(&*self),
                            ::core::any::type_name::<Self>(),
                            "pairs",
                            move || -> Vec<[u8; 2 * LEN]> { vec![] },
                        )
                    }
                    fn spans(&self) -> Vec<(f64, f64)> {
                        ::bamboost::__private::on_root_number_tuples::<
                            (f64, f64),
                        >(
                            &::bamboost::__private::comm_of(&*self),
                            ::core::any::type_name::<Self>(),
                            "spans",
                            move || -> Vec<(f64, f64)> { vec![] },
                        )
                    }
                    fn mixed(&self) -> Vec<(f64, u8)> {
                        {
                            #[allow(unused_imports)]
                            use ::bamboost::__private::{ViaBytes as _, ViaEncoding as _};
                            (&&::bamboost::__private::Dispatch::<Vec<(f64, u8)>>::NEW)
                                .on_root(
                                    &::bamboost::__private::comm_of(&*self),
                                    ::core::any::type_name::<Self>(),
                                    "mixed",
                                    move || -> Vec<(f64, u8)> { vec![] },
                                )
                        }
                    }
                    fn names(&self) -> Vec<String> {
                        {
                            #[allow(unused_imports)]
                            use ::bamboost::__private::{ViaBytes as _, ViaEncoding as _};
                            (&&::bamboost::__private::Dispatch::<Vec<String>>::NEW)
                                .on_root(
                                    &::bamboost::__private::comm_of(&*self),
                                    ::core::any::type_name::<Self>(),
                                    "names",
                                    move || -> Vec<String> { vec![] },
                                )
                        }
                    }
                    fn read(&self) -> Result<Vec<f64>, Error> {
                        {
                            #[allow(unused_imports)]
                            use ::bamboost::__private::{ViaBytes as _, ViaEncoding as _};
                            (&&::bamboost::__private::Dispatch::<Result<Vec<f64>, Error>>::NEW)
                                .on_root(
                                    &::bamboost::__private::comm_of(&*self),
                                    ::core::any::type_name::<Self>(),
                                    "read",
                                    move || -> Result<Vec<f64>, Error> { Ok(vec![]) },
                                )
                        }
                    }
                    fn title(&self) -> String {
                        ::bamboost::__private::on_root_text(
                            &::bamboost::__private::comm_of(&*self),
                            ::core::any::type_name::<Self>(),
                            "title",
                            move || -> String { String::new() },
                        )
                    }
                    fn label(&self) -> std::string::String {
                        ::bamboost::__private::on_root_text(
                            &::bamboost::__private::comm_of(&*self),
                            ::core::any::type_name::<Self>(),
                            "label",
                            move || -> std::string::String { String::new() },
                        )
                    }
                    fn name(&self) -> &str {
                        "x"
                    }
                    fn other(&self) -> &str {
                        "y"
                    }
                }
            "#]],
        );
    }

    #[test]
    fn keeps_generics_where_clauses_and_uses_the_crate_argument() {
        check(
            quote!(crate = "my::reexport"),
            quote! {
                impl<T: Clone> Store<T> where T: Send {
                    fn get<K: AsRef<str>>(&self, key: K) -> Option<T> where K: Copy { None }
                }
            },
            expect![[r#"
                impl<T: Clone> Store<T>
                where
                    T: Send,
                {
                    fn get<K: AsRef<str>>(&self, key: K) -> Option<T>
                    where
                        K: Copy,
                    {
                        my::reexport::__private::on_root::<
                            Option<T>,
                        >(
                            &my::reexport::__private::comm_of(&*self),
                            ::core::any::type_name::<Self>(),
                            "get",
                            move || -> Option<T> { None },
                        )
                    }
                }
            "#]],
        );
    }

    #[test]
    fn errors_keep_the_block_without_exclude_attributes() {
        let output = root_process(
            quote!(),
            quote! {
                impl A {
                    async fn a(&self) {}
                    #[exclude]
                    fn b(&self) -> &u8 { &1 }
                    fn c(&self) -> &u8 { &1 }
                }
            },
        )
        .to_string();
        assert!(!output.contains("exclude ]"), "{output}");
        assert!(output.contains("compile_error"), "{output}");
        assert_eq!(
            output.matches("compile_error").count(),
            2,
            "both problems are reported: {output}"
        );
    }
}
