//! Work the server does on its own, in the background. So far: following the registrar's
//! orders of the domains bought through it ([`registrar`]).

pub mod registrar;
