//! `cargo xtask`: set-up tasks for fkd.

fn main() {
    println!("xtask");
}
