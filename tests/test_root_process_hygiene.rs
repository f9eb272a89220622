//! Generated code must not depend on names the user's crate may shadow.
#![deny(warnings, unused_qualifications)]
#![allow(dead_code, non_camel_case_types)]

use bamboost::mpi::{CommSlot, HasComm};

// Traps: user items named like the std ones the expansion could accidentally refer to.
struct Result;
struct Ok;
struct Err;
struct Some;
struct Box;
struct Vec;
#[derive(::serde::Serialize, ::serde::Deserialize, PartialEq, Debug)]
struct String;
struct __bamboost_comm;
mod core {}
mod std {}
mod serde {}
type Option = ();

struct Shadowed {
    comm: CommSlot,
}

impl HasComm for Shadowed {
    fn comm(&self) -> ::bamboost::Comm {
        self.comm.get()
    }
}

#[bamboost::root_process]
impl Shadowed {
    fn value(&self) -> u32 {
        5
    }

    fn fallible(&self) -> ::core::result::Result<u8, ::std::string::String> {
        ::core::result::Result::Ok(1)
    }

    fn unit(&mut self) {}

    // Spelled `String`, but the user's type: it must take the general (encoded) path.
    fn title(&self) -> String {
        String
    }
}

#[test]
fn shadowing_user_items_does_not_break_the_expansion() {
    let mut s = Shadowed {
        comm: CommSlot::new(),
    };
    assert_eq!(s.value(), 5);
    assert_eq!(s.fallible(), ::core::result::Result::Ok(1));
    s.unit();
    assert_eq!(s.title(), String);
}
