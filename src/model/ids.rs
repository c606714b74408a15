//! Typed ids: every entity of a world lives in an arena and is referred to by an index of its own type. A leaf
//! module, so that the world, the chain specs, records and events can all name entities without importing each
//! other.

macro_rules! typed_id {
    ($name:ident, $int:ty) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub $int);
        impl $name {
            pub fn idx(self) -> usize {
                self.0 as usize
            }
        }
    };
}

typed_id!(CalId, u16);
typed_id!(BankId, u16);
typed_id!(NostroId, u32);
typed_id!(DomRailId, u16);
typed_id!(RailId, u16);
typed_id!(CorridorId, u16);
typed_id!(RouteId, u16);
typed_id!(ChainId, u16);
