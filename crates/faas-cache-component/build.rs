//! Link settings of the guest: the shared ones of `faas_guest_alloc::stack` (a 128 KiB stack).

fn main() {
    faas_guest_alloc::stack::link_guest();
}
