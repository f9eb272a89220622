//! Arguments of `#[root_process(...)]`.

use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Path, Token};

/// The parsed arguments: nothing, or `crate = "path"`.
#[derive(Default)]
pub(crate) struct Args {
    /// Path of the bamboost crate, when it is re-exported elsewhere.
    pub(crate) krate: Option<Path>,
}

/// Stores `value` in `slot` unless the option was already given.
fn set_once<T>(
    slot: &mut Option<T>,
    value: T,
    span: proc_macro2::Span,
    name: &str,
) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(
            span,
            format!("duplicate `{name}` argument"),
        ));
    }
    *slot = Some(value);
    Ok(())
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        while !input.is_empty() {
            if input.peek(Token![crate]) {
                let key: Token![crate] = input.parse()?;
                input.parse::<Token![=]>()?;
                let value: LitStr = input.parse()?;
                let path = value.parse::<Path>().map_err(|_| {
                    syn::Error::new(value.span(), format!("`{}` is not a path", value.value()))
                })?;
                set_once(&mut args.krate, path, key.span, "crate")?;
            } else {
                return Err(input
                    .error("unknown argument; `#[root_process]` accepts only `crate = \"path\"`"));
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(args)
    }
}
