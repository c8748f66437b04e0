//! TEMPORARY (orders work in progress): only the orders module, while another module of e2e.rs does not build.
mod e2e {
    pub mod orders;
}
