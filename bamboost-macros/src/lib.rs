//! Procedural macros of bamboost. Use them through the `bamboost` crate.
use proc_macro::TokenStream;

/// Placeholder.
#[proc_macro_attribute]
pub fn root_process(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Placeholder.
#[proc_macro_attribute]
pub fn exclude(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
