//! The one place that spells the path of the runtime items generated code uses.

use crate::args::Args;
use proc_macro2::TokenStream;
use quote::quote;

/// `::bamboost::__private`, or `<crate>::__private` with `#[root_process(crate = "...")]`.
pub(crate) fn private(args: &Args) -> TokenStream {
    match &args.krate {
        Some(krate) => quote!(#krate::__private),
        None => quote!(::bamboost::__private),
    }
}
